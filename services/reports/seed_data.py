"""Starter reference data for the reports service (pure data, no database code).

* ``GROUPS`` -- category group code -> (Vietnamese name, English name).
* ``CATEGORIES`` -- the starter catalogue of report categories a resident can pick.
* ``hcmc_wards()`` -- the 168 commune-level units (phường / xã / đặc khu) of
  Ho Chi Minh City after the 1 July 2025 reorganisation, read from the
  ``vietnam-provinces`` package.

All user-facing text is NFC-normalised Vietnamese / English.  Category codes are
referenced by the routing seed data (rules and SLA overrides), so renaming a
code here must be mirrored in ``services/routing/seed_data.py``.
"""

from __future__ import annotations

from vietnam_provinces import ProvinceCode, Ward

__all__ = ["GROUPS", "CATEGORIES", "KINDS", "HCMC_PROVINCE_CODE", "hcmc_wards"]

#: Report kinds: an incident (phản ánh sự cố), feedback (góp ý) or a proposal (kiến nghị, đề xuất).
KINDS: tuple[str, ...] = ("incident", "feedback", "proposal")

#: Province code of Ho Chi Minh City in the national administrative-unit list.
HCMC_PROVINCE_CODE: int = 79

GROUPS: dict[str, tuple[str, str]] = {
    "roads": ("Đường sá, vỉa hè", "Roads and pavements"),
    "drainage": ("Thoát nước, ngập nước", "Drainage and flooding"),
    "lighting": ("Chiếu sáng công cộng", "Street lighting"),
    "waste": ("Rác thải, đổ rác trái phép", "Waste and illegal dumping"),
    "trees": ("Cây xanh", "Trees"),
    "traffic_signals": ("Đèn tín hiệu, biển báo giao thông", "Traffic signals and signs"),
    "water": ("Cấp nước", "Water supply"),
    "electricity": ("Điện", "Electricity"),
    "noise": ("Tiếng ồn", "Noise"),
    "construction": ("Trật tự xây dựng", "Construction order"),
    "public_order": ("An ninh, trật tự đô thị", "Public order"),
    "environment": ("Môi trường, không khí", "Environment and air"),
    "admin_procedures": ("Thủ tục hành chính", "Administrative procedures"),
    "feedback": ("Góp ý", "Feedback"),
    "proposal": ("Kiến nghị, đề xuất", "Proposals"),
}


def _cat(
    code: str,
    name_vi: str,
    name_en: str,
    group: str,
    *,
    kind: str = "incident",
    photo_required: bool = False,
    urgent: bool = False,
) -> dict:
    return {
        "code": code,
        "name_vi": name_vi,
        "name_en": name_en,
        "kind": kind,
        "group": group,
        "photo_required": photo_required,
        "urgent": urgent,
    }


CATEGORIES: list[dict] = [
    # --- roads ---------------------------------------------------------------
    _cat("road_pothole", "Ổ gà, hư hỏng mặt đường", "Pothole or damaged road surface", "roads",
         photo_required=True),
    _cat("pavement_damaged", "Vỉa hè hư hỏng, bong tróc", "Damaged or broken pavement", "roads",
         photo_required=True),
    _cat("alley_damaged", "Hẻm xuống cấp, hư hỏng", "Damaged alley (hẻm)", "roads",
         photo_required=True),
    # --- drainage ------------------------------------------------------------
    _cat("flooding", "Ngập nước", "Flooding", "drainage", urgent=True),
    _cat("drain_blocked", "Cống thoát nước bị tắc nghẽn", "Blocked drain", "drainage"),
    _cat("manhole_cover_missing", "Mất hoặc hư hỏng nắp hố ga", "Missing or broken manhole cover",
         "drainage", photo_required=True),
    # --- lighting ------------------------------------------------------------
    _cat("streetlight_out", "Đèn đường không sáng", "Street light not working", "lighting"),
    _cat("light_pole_damaged", "Trụ đèn chiếu sáng hư hỏng, nghiêng đổ",
         "Damaged or leaning lighting pole", "lighting", photo_required=True),
    # --- waste ---------------------------------------------------------------
    _cat("illegal_dumping", "Đổ rác, xà bần trái phép",
         "Illegal dumping of rubbish or construction debris", "waste", photo_required=True),
    _cat("waste_not_collected", "Rác sinh hoạt không được thu gom", "Household waste not collected",
         "waste"),
    _cat("public_bin_overflow", "Thùng rác công cộng đầy tràn, hư hỏng",
         "Overflowing or damaged public bin", "waste"),
    # --- trees ---------------------------------------------------------------
    _cat("fallen_tree", "Cây đổ, gãy cành", "Fallen tree or broken branch", "trees", urgent=True),
    _cat("tree_at_risk", "Cây xanh có nguy cơ ngã đổ", "Tree at risk of falling", "trees",
         photo_required=True),
    _cat("tree_pruning", "Cây xanh cần cắt tỉa", "Tree needs pruning", "trees"),
    # --- traffic signals -----------------------------------------------------
    _cat("traffic_light_fault", "Đèn tín hiệu giao thông hư hỏng", "Faulty traffic light",
         "traffic_signals"),
    _cat("road_sign_damaged", "Biển báo giao thông hư hỏng, bị che khuất",
         "Damaged or obscured road sign", "traffic_signals", photo_required=True),
    # --- water supply --------------------------------------------------------
    _cat("water_main_burst", "Vỡ ống cấp nước", "Burst water main", "water", urgent=True),
    _cat("water_outage", "Mất nước, nước yếu", "No water or low water pressure", "water"),
    _cat("water_quality", "Nước sinh hoạt có màu, mùi bất thường",
         "Tap water with unusual colour or smell", "water"),
    # --- electricity ---------------------------------------------------------
    _cat("live_wire_hazard", "Dây điện sự cố, nguy cơ điện giật",
         "Fallen or exposed live wire (electrical hazard)", "electricity", urgent=True),
    _cat("power_outage", "Mất điện", "Power outage", "electricity"),
    # --- noise ---------------------------------------------------------------
    _cat("noise_karaoke", "Tiếng ồn từ karaoke, loa kéo", "Noise from karaoke or portable speakers",
         "noise"),
    _cat("noise_construction_hours", "Thi công gây ồn ngoài giờ cho phép",
         "Construction noise outside permitted hours", "noise"),
    # --- construction order --------------------------------------------------
    _cat("illegal_construction", "Xây dựng không phép, sai phép",
         "Unlicensed or non-compliant construction", "construction", photo_required=True),
    _cat("unsafe_construction_site", "Công trình thi công mất an toàn", "Unsafe construction site",
         "construction", photo_required=True),
    _cat("road_excavation_unrestored", "Đào đường không hoàn trả mặt bằng",
         "Road dug up and not reinstated", "construction", photo_required=True),
    # --- public order --------------------------------------------------------
    _cat("pavement_encroachment", "Lấn chiếm vỉa hè, lòng đường",
         "Encroachment on pavement or roadway", "public_order", photo_required=True),
    _cat("illegal_parking", "Đậu xe sai quy định", "Illegal parking", "public_order",
         photo_required=True),
    _cat("public_disturbance", "Gây rối trật tự công cộng", "Public disturbance", "public_order"),
    # --- environment ---------------------------------------------------------
    _cat("air_pollution", "Ô nhiễm không khí, khói bụi", "Air pollution, smoke or dust",
         "environment"),
    _cat("open_burning", "Đốt rác, đốt chất thải ngoài trời", "Open burning of waste",
         "environment"),
    _cat("canal_pollution", "Kênh rạch ô nhiễm, ùn ứ rác", "Polluted canal or waterway",
         "environment", photo_required=True),
    # --- administrative procedures -------------------------------------------
    _cat("admin_overdue", "Hồ sơ giải quyết trễ hạn", "Application processed late",
         "admin_procedures"),
    _cat("admin_extra_documents", "Yêu cầu giấy tờ không đúng quy định",
         "Documents requested that are not required by regulation", "admin_procedures"),
    # --- feedback topics -----------------------------------------------------
    _cat("feedback_service_quality", "Chất lượng dịch vụ công", "Public service quality", "feedback",
         kind="feedback"),
    _cat("feedback_officer_attitude", "Thái độ, tác phong cán bộ, công chức",
         "Attitude and conduct of public officials", "feedback", kind="feedback"),
    _cat("feedback_online_services", "Dịch vụ công trực tuyến", "Online public services", "feedback",
         kind="feedback"),
    # --- proposal topics -----------------------------------------------------
    _cat("proposal_urban_improvement", "Chỉnh trang, phát triển đô thị",
         "Urban improvement and development", "proposal", kind="proposal"),
    _cat("proposal_digital_government", "Chính quyền số, chuyển đổi số",
         "Digital government and digital transformation", "proposal", kind="proposal"),
    _cat("proposal_environment", "Bảo vệ môi trường, phát triển mảng xanh",
         "Environmental protection and green spaces", "proposal", kind="proposal"),
]


def hcmc_wards() -> list[dict]:
    """The commune-level units of Ho Chi Minh City (from 1 July 2025), sorted by code.

    Each item: ``{"code": "25747", "name": "Phường Thủ Dầu Một", "division_type": "phường"}``.
    """
    wards = [
        {
            "code": f"{int(w.code):05d}",
            "name": w.name,
            "division_type": w.division_type.value,
        }
        for w in Ward.iter_by_province(ProvinceCode.P_79)
    ]
    wards.sort(key=lambda w: w["code"])
    return wards


#: Extra fields some starter categories ask for (Open311 attribute model; see domain/attributes.py).
CATEGORY_ATTRIBUTES: dict[str, list[dict]] = {
    "flooding": [
        {"code": "water_depth_cm", "datatype": "number", "required": False, "order": 1,
         "description_vi": "Độ sâu nước ước tính (cm)", "description_en": "Estimated water depth (cm)"},
        {"code": "passable", "datatype": "singlevaluelist", "required": False, "order": 2,
         "description_vi": "Xe máy có đi qua được không?", "description_en": "Can motorbikes get through?",
         "values": [{"key": "yes", "name_vi": "Đi được", "name_en": "Yes"},
                    {"key": "hard", "name_vi": "Khó khăn", "name_en": "With difficulty"},
                    {"key": "no", "name_vi": "Không đi được", "name_en": "No"}]},
    ],
    "road_pothole": [
        {"code": "size", "datatype": "singlevaluelist", "required": False, "order": 1,
         "description_vi": "Kích thước ổ gà", "description_en": "Size of the pothole",
         "values": [{"key": "small", "name_vi": "Nhỏ (dưới 30 cm)", "name_en": "Small (under 30 cm)"},
                    {"key": "large", "name_vi": "Lớn (30 cm trở lên)", "name_en": "Large (30 cm or more)"}]},
    ],
    "illegal_dumping": [
        {"code": "waste_types", "datatype": "multivaluelist", "required": False, "order": 1,
         "description_vi": "Loại rác", "description_en": "Kinds of waste",
         "values": [{"key": "household", "name_vi": "Rác sinh hoạt", "name_en": "Household"},
                    {"key": "construction", "name_vi": "Xà bần", "name_en": "Construction debris"},
                    {"key": "hazardous", "name_vi": "Chất thải nguy hại", "name_en": "Hazardous"}]},
    ],
}

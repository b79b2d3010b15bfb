"""Starter reference data for the routing service (pure data, no database code).

Agencies
--------
``AGENCIES`` (built by ``build_agencies()``) lists who can receive a report:

* ``ioc`` -- the HCMC Intelligent Operations Centre, root of the tree and the
  final fallback for anything no other rule claims;
* ``ubnd_<ward code>`` -- the People's Committee of each of the 168 commune-level
  units (phường / xã / đặc khu) of Ho Chi Minh City after 1 July 2025;
* city departments (``so_*``), utilities and the city police, all parented to ``ioc``.

Rules
-----
Each rule in ``RULES`` has the shape::

    {"id": str, "kind": str | None, "category_code": str | None,
     "category_group": str | None, "ward_codes": list[str] | None,
     "agency_code": str, "priority": int}

A ``None`` criterion matches anything.  A rule *matches* a report when every
non-``None`` criterion matches: ``kind`` equals the report kind,
``category_code`` equals the report category, ``category_group`` equals the
category's group, and the report's ward code is in ``ward_codes``.

Among the matching rules the most specific one wins, compared in this order:

1. a ``category_code`` match beats a ``category_group`` match, which beats a
   rule constrained only by ``kind`` (and that beats a rule with no criteria);
2. at equal category specificity, a rule with ``ward_codes`` set beats a
   whole-city rule (``ward_codes`` is ``None``);
3. then the higher ``priority`` wins (the rule ``id`` breaks any remaining tie,
   so routing is deterministic).

``agency_code`` is either a code from ``AGENCIES`` or the marker ``"@ward"``
(``WARD_AGENCY``), meaning "the People's Committee of the report's ward",
i.e. ``ward_committee_code(report.ward_code)``.  If the report has no ward the
router should fall through to the next matching rule.  The rule ``r-fallback``
(no criteria, agency ``ioc``, priority 0) guarantees that every report is routed.

SLAs
----
``SLAS`` gives per category-group deadlines: ``ack_hours`` (time to acknowledge)
and ``resolve_hours`` (time to resolve), counted either in ``"working"`` hours
(8 h per working day, Monday-Friday excluding public holidays) or ``"calendar"``
hours (round the clock).  ``SLA_OVERRIDES`` replaces the group SLA for specific
urgent categories; its keys are category codes from
``services/reports/seed_data.py``.
"""

from __future__ import annotations

import unicodedata

from vietnam_provinces import ProvinceCode, VietNamDivisionType, Ward

__all__ = [
    "AGENCY_KINDS",
    "WARD_AGENCY",
    "IOC_CODE",
    "AGENCIES",
    "RULES",
    "SLAS",
    "SLA_OVERRIDES",
    "CATEGORY_GROUPS",
    "WORKING_HOURS_PER_DAY",
    "build_agencies",
    "build_rules",
    "strip_accents",
    "ward_committee_code",
]

AGENCY_KINDS: tuple[str, ...] = ("ward_committee", "department", "utility", "police", "operations_centre")

#: Marker agency code: "the People's Committee of the report's ward".
WARD_AGENCY: str = "@ward"

#: The city operations centre: root of the agency tree and the final fallback.
IOC_CODE: str = "ioc"

#: Length of a working day when SLAs are counted in working hours.
WORKING_HOURS_PER_DAY: int = 8

_DIVISION_EN: dict[VietNamDivisionType, str] = {
    VietNamDivisionType.PHUONG: "Ward",
    VietNamDivisionType.XA: "Commune",
    VietNamDivisionType.DAC_KHU: "Special Zone",
}


def strip_accents(text: str) -> str:
    """ASCII-fold Vietnamese text: remove diacritics and map đ -> d, Đ -> D."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def ward_committee_code(ward_code: str | int) -> str:
    """Agency code of the People's Committee of a commune-level unit."""
    return f"ubnd_{int(ward_code):05d}"


def _bare_name(name: str, division: VietNamDivisionType) -> str:
    """'Phường Thủ Dầu Một' -> 'Thủ Dầu Một' (drops the leading division word)."""
    prefix = division.value
    if name[: len(prefix)].casefold() == prefix.casefold():
        return name[len(prefix):].strip()
    return name


def _hcmc_wards() -> list[Ward]:
    return sorted(Ward.iter_by_province(ProvinceCode.P_79), key=lambda w: int(w.code))


def _agency(code: str, name_vi: str, name_en: str, kind: str,
            parent_code: str | None = IOC_CODE, ward_code: str | None = None) -> dict:
    return {
        "code": code,
        "name_vi": name_vi,
        "name_en": name_en,
        "kind": kind,
        "parent_code": parent_code,
        "ward_code": ward_code,
    }


def build_agencies() -> list[dict]:
    """All agencies: the IOC, city departments, utilities, police and the 168 ward committees."""
    agencies = [
        _agency(IOC_CODE, "Trung tâm Điều hành đô thị thông minh TP.HCM",
                "HCMC Intelligent Operations Centre", "operations_centre", parent_code=None),
        # City departments (Sở).  Since 2025 the Department of Construction also
        # covers transport, and agriculture merged with natural resources & environment.
        _agency("so_xd", "Sở Xây dựng TP.HCM", "HCMC Department of Construction", "department"),
        _agency("so_nnmt", "Sở Nông nghiệp và Môi trường TP.HCM",
                "HCMC Department of Agriculture and Environment", "department"),
        _agency("so_yt", "Sở Y tế TP.HCM", "HCMC Department of Health", "department"),
        _agency("so_gddt", "Sở Giáo dục và Đào tạo TP.HCM",
                "HCMC Department of Education and Training", "department"),
        _agency("so_vhtt", "Sở Văn hóa và Thể thao TP.HCM", "HCMC Department of Culture and Sports",
                "department"),
        # Utilities.
        _agency("evnhcmc", "Tổng công ty Điện lực TP.HCM", "Ho Chi Minh City Power Corporation (EVNHCMC)",
                "utility"),
        _agency("sawaco", "Tổng công ty Cấp nước Sài Gòn", "Saigon Water Corporation (SAWACO)", "utility"),
        _agency("chieusang", "Công ty TNHH MTV Chiếu sáng công cộng TP.HCM",
                "HCMC Public Lighting Company", "utility"),
        _agency("thoatnuoc", "Công ty TNHH MTV Thoát nước đô thị TP.HCM",
                "HCMC Urban Drainage Company", "utility"),
        _agency("ctmt", "Công ty TNHH MTV Môi trường đô thị TP.HCM",
                "HCMC Urban Environment Company (CITENCO)", "utility"),
        # Police.
        _agency("ca_tphcm", "Công an TP.HCM", "HCMC Police", "police"),
    ]
    for w in _hcmc_wards():
        ward_code = f"{int(w.code):05d}"
        bare_en = strip_accents(_bare_name(w.name, w.division_type))
        division_en = _DIVISION_EN.get(w.division_type, "Commune")
        agencies.append(
            _agency(
                ward_committee_code(ward_code),
                f"UBND {w.name}",
                f"People's Committee of {bare_en} {division_en}",
                "ward_committee",
                parent_code=IOC_CODE,
                ward_code=ward_code,
            )
        )
    return agencies


AGENCIES: list[dict] = build_agencies()


def _rule(rule_id: str, agency_code: str, priority: int, *, kind: str | None = None,
          category_code: str | None = None, category_group: str | None = None,
          ward_codes: list[str] | None = None) -> dict:
    return {
        "id": rule_id,
        "kind": kind,
        "category_code": category_code,
        "category_group": category_group,
        "ward_codes": ward_codes,
        "agency_code": agency_code,
        "priority": priority,
    }


# Priority bands (priority only breaks ties at equal specificity; see module docstring).
_P_CATEGORY = 30
_P_GROUP = 20
_P_KIND = 10
_P_FALLBACK = 0

#: Incident group -> city-wide responsible agency.
_GROUP_AGENCY: dict[str, str] = {
    "roads": "so_xd",
    "drainage": "thoatnuoc",
    "lighting": "chieusang",
    "waste": "ctmt",
    "trees": "so_nnmt",
    "traffic_signals": "so_xd",
    "water": "sawaco",
    "electricity": "evnhcmc",
    "noise": WARD_AGENCY,  # noise nuisance is handled by the local People's Committee
    "construction": "so_xd",
    "public_order": "ca_tphcm",
    "environment": "so_nnmt",
    "admin_procedures": WARD_AGENCY,  # procedures are mostly filed at the ward one-stop desk
}

#: Incident categories best handled by the People's Committee of the report's ward.
_LOCAL_CATEGORIES: tuple[str, ...] = (
    "alley_damaged",          # alleys (hẻm) are maintained by wards, main roads by the city
    "illegal_dumping",        # ward urban-order teams fine and clear dumping sites
    "illegal_construction",   # building order is enforced by the ward
    "pavement_encroachment",  # pavement/roadway order is a ward responsibility
)

#: Groups served locally on Côn Đảo (an island special zone far from the city
#: utilities' networks): the special-zone People's Committee coordinates them.
_CON_DAO_LOCAL_GROUPS: tuple[str, ...] = ("drainage", "lighting", "waste", "water", "electricity")


def _ward_code_by_codename(codename: str) -> str:
    for w in Ward.iter_by_province(ProvinceCode.P_79):
        if w.codename == codename:
            return f"{int(w.code):05d}"
    raise LookupError(codename)


def build_rules() -> list[dict]:
    """The starter routing rules (see the module docstring for how they are applied)."""
    rules: list[dict] = []
    for group, agency in _GROUP_AGENCY.items():
        scope = "ward" if agency == WARD_AGENCY else "city"
        rules.append(_rule(f"r-{group.replace('_', '-')}-{scope}", agency, _P_GROUP,
                           kind="incident", category_group=group))
    for category in _LOCAL_CATEGORIES:
        rules.append(_rule(f"r-{category.replace('_', '-')}-ward", WARD_AGENCY, _P_CATEGORY,
                           kind="incident", category_code=category))
    con_dao = _ward_code_by_codename("dac_khu_con_dao")
    for group in _CON_DAO_LOCAL_GROUPS:
        rules.append(_rule(f"r-{group.replace('_', '-')}-con-dao", WARD_AGENCY, _P_GROUP,
                           kind="incident", category_group=group, ward_codes=[con_dao]))
    rules.append(_rule("r-feedback-city", IOC_CODE, _P_KIND, kind="feedback"))
    rules.append(_rule("r-proposal-city", IOC_CODE, _P_KIND, kind="proposal"))
    rules.append(_rule("r-fallback", IOC_CODE, _P_FALLBACK))
    return rules


RULES: list[dict] = build_rules()


def _sla(ack_hours: float, resolve_hours: float, calendar: str = "working") -> dict:
    return {"ack_hours": float(ack_hours), "resolve_hours": float(resolve_hours), "calendar": calendar}


#: Category group -> SLA.  Working-hour SLAs assume 8 h per working day
#: (40 working hours = 5 working days).  Utilities and police work round the clock.
SLAS: dict[str, dict] = {
    "roads": _sla(4, 80),                      # 10 working days
    "drainage": _sla(4, 40),                   # 5 working days
    "lighting": _sla(4, 24),                   # 3 working days
    "waste": _sla(4, 16),                      # 2 working days
    "trees": _sla(4, 40),
    "traffic_signals": _sla(2, 16),
    "water": _sla(2, 24, "calendar"),
    "electricity": _sla(1, 12, "calendar"),
    "noise": _sla(4, 40),
    "construction": _sla(4, 80),
    "public_order": _sla(2, 24, "calendar"),
    "environment": _sla(4, 80),
    "admin_procedures": _sla(8, 40),
    "feedback": _sla(8, 80),                   # 10 working days
    "proposal": _sla(16, 160),                 # 20 working days
}

#: Category code -> SLA, replacing the group SLA for urgent / hazardous categories.
SLA_OVERRIDES: dict[str, dict] = {
    "flooding": _sla(0.5, 6, "calendar"),
    "fallen_tree": _sla(0.5, 4, "calendar"),
    "live_wire_hazard": _sla(0.25, 4, "calendar"),
    "water_main_burst": _sla(0.5, 8, "calendar"),
    "manhole_cover_missing": _sla(1, 24, "calendar"),
}

#: Category group -> the report kind filed under it (mirrors the reports catalogue; a test checks).
#: Every active group must keep a city-wide rule (the rule-set check refuses to drop the last one).
CATEGORY_GROUPS: dict[str, str] = {
    **{group: "incident" for group in _GROUP_AGENCY},
    "feedback": "feedback",
    "proposal": "proposal",
}

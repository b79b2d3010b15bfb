"""Messages of the routing area (agencies, rules, calendar, assignments, transfers)."""

MESSAGES: dict[str, dict[str, tuple[str, str | None]]] = {
    "rule_tie": {
        "vi": ("Quy tắc bị trùng", None),
        "en": ("Rules tie", None),
    },
    "rule_fallback_missing": {
        "vi": ("Thiếu quy tắc toàn thành phố", None),
        "en": ("City-wide rule missing", None),
    },
    "invalid_rule": {
        "vi": ("Quy tắc không hợp lệ", None),
        "en": ("Invalid rule", None),
    },
    "rule_not_found": {
        "vi": ("Không tìm thấy quy tắc", "Quy tắc điều phối không tồn tại."),
        "en": ("Rule not found", "The routing rule does not exist."),
    },
    "rule_exists": {
        "vi": ("Quy tắc đã tồn tại", "Đã có quy tắc với mã này; hãy gửi kèm phiên bản hiện tại để sửa."),
        "en": ("Rule exists", "A rule with this id exists; send its current version to change it."),
    },
    "rule_version_conflict": {
        "vi": ("Quy tắc đã thay đổi", "Quy tắc vừa được người khác cập nhật; hãy tải lại và thử lại."),
        "en": ("Rule changed meanwhile", "The rule was changed by someone else; reload and try again."),
    },
    "agency_not_found": {
        "vi": ("Không tìm thấy cơ quan", "Cơ quan, đơn vị không tồn tại."),
        "en": ("Agency not found", "The agency does not exist."),
    },
    "agency_exists": {
        "vi": ("Cơ quan đã tồn tại", "Đã có cơ quan, đơn vị với mã này."),
        "en": ("Agency exists", "An agency with this code exists already."),
    },
    "invalid_agency": {
        "vi": ("Thông tin cơ quan không hợp lệ", None),
        "en": ("Invalid agency", None),
    },
    "invalid_calendar_day": {
        "vi": ("Ngày không hợp lệ", "Ngày phải có dạng YYYY-MM-DD, từ năm 2000 đến 2100."),
        "en": ("Invalid day", "The day must be YYYY-MM-DD, between 2000 and 2100."),
    },
    "calendar_day_not_found": {
        "vi": ("Không có quyết định cho ngày này",
               "Thành phố chưa ghi nhận ngày nghỉ hay ngày làm bù nào vào ngày này."),
        "en": ("No decision for this day", "The city has recorded no day off or make-up working day on this day."),
    },
    "assignment_not_found": {
        "vi": ("Không tìm thấy phân công", "Phản ánh chưa được phân công hoặc bạn không có quyền xem."),
        "en": ("Assignment not found", "The report is not assigned yet, or you may not see its assignment."),
    },
    "not_assigned_agency": {
        "vi": ("Không thuộc đơn vị được giao", "Chỉ đơn vị đang được giao phản ánh mới có thể chuyển phản ánh."),
        "en": ("Not the assigned agency", "Only the agency the report is assigned to can transfer it."),
    },
    "invalid_transfer": {
        "vi": ("Không thể chuyển phản ánh", None),
        "en": ("Transfer not possible", None),
    },
    "report_not_transferable": {
        "vi": ("Phản ánh đã kết thúc", "Phản ánh đã được xử lý xong, đóng, từ chối hoặc rút nên không thể chuyển."),
        "en": ("Report finished", "The report is resolved, closed, rejected or withdrawn and cannot be transferred."),
    },
    "transfer_limit_reached": {
        "vi": ("Đã chuyển quá số lần", "Phản ánh đã chuyển 3 lần; Trung tâm Điều hành sẽ quyết định đơn vị xử lý."),
        "en": ("Transfer limit reached",
               "The report was transferred 3 times; the operations centre decides who handles it."),
    },
}

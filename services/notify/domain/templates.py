"""Message templates per type and language; a missing placeholder is an error, never a hole."""

from __future__ import annotations

import string

from servicekit.errors import InvalidArgument

# (type, language) -> (title, body)
TEMPLATES: dict[tuple[str, str], tuple[str, str]] = {
    ("report_submitted", "vi"): ("Đã nhận phản ánh", "Phản ánh {short_id} đã được tiếp nhận và đang được chuyển đến cơ quan xử lý."),
    ("report_submitted", "en"): ("Report received", "Report {short_id} was received and is being routed to the agency in charge."),
    ("report_assigned", "vi"): ("Phản ánh đã được phân công", "Phản ánh {short_id} được giao cho {agency_name}; hạn xử lý {due}."),
    ("report_assigned", "en"): ("Report assigned", "Report {short_id} was assigned to {agency_name}; due {due}."),
    ("report_status_changed", "vi"): ("Cập nhật phản ánh", "Phản ánh {short_id} chuyển sang trạng thái: {status}."),
    ("report_status_changed", "en"): ("Report update", "Report {short_id} is now: {status}."),
    ("otp", "vi"): ("", "Ma xac thuc Cong dan so cua ban la {code}. Hieu luc 5 phut. Khong chia se ma nay."),
    ("otp", "en"): ("", "Your Cong dan so code is {code}. Valid for 5 minutes. Do not share it."),
}

STATUS_NAMES = {
    "vi": {"submitted": "đã gửi", "assigned": "đã phân công", "in_progress": "đang xử lý", "resolved": "đã xử lý",
           "closed": "đã đóng", "rejected": "bị từ chối", "withdrawn": "đã rút"},
    "en": {"submitted": "submitted", "assigned": "assigned", "in_progress": "in progress", "resolved": "resolved",
           "closed": "closed", "rejected": "rejected", "withdrawn": "withdrawn"},
}


def placeholders(text: str) -> set[str]:
    """Names used as {placeholders} in a template text."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def render(message_type: str, language: str, values: dict[str, str]) -> tuple[str, str]:
    """Title and body in `language` (vi fallback); raises when a placeholder has no value."""
    title, body = TEMPLATES.get((message_type, language)) or TEMPLATES[(message_type, "vi")]
    missing = (placeholders(title) | placeholders(body)) - {k for k, v in values.items() if v not in (None, "")}
    if missing:
        raise InvalidArgument(f"template {message_type} lacks values for {sorted(missing)}", code="template_values")
    return title.format_map(values), body.format_map(values)

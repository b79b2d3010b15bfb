"""Messages of the gateway's own edge checks (rate limits, Open311 parameters)."""

MESSAGES: dict[str, dict[str, tuple[str, str | None]]] = {
    "rate_limited": {
        "vi": ("Quá nhiều yêu cầu", "Bạn gửi yêu cầu quá nhanh; hãy thử lại sau số giây trong Retry-After."),
        "en": ("Too many requests", "Requests come too fast; try again after the seconds in Retry-After."),
    },
    "open311_bad_parameter": {"vi": ("Tham số không hợp lệ", None), "en": ("Bad parameter", None)},
    "open311_api_key": {"vi": ("api_key không hợp lệ", None), "en": ("Invalid api_key", None)},
    "open311_not_found": {"vi": ("Không tìm thấy", None), "en": ("Not found", None)},
}

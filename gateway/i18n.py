"""Language negotiation (vi default, en) and the catalogue of problem titles and details."""

from __future__ import annotations

from gateway.messages import area_catalogues

SUPPORTED = ("vi", "en")
DEFAULT = "vi"

# code -> language -> (title, detail or None: None keeps the service's own message)
MESSAGES: dict[str, dict[str, tuple[str, str | None]]] = {
    "validation_error": {
        "vi": ("Dữ liệu không hợp lệ", "Một hoặc nhiều trường không hợp lệ."),
        "en": ("Invalid data", "One or more fields are invalid."),
    },
    "malformed_json": {
        "vi": ("JSON không hợp lệ", "Nội dung yêu cầu không phải JSON hợp lệ."),
        "en": ("Malformed JSON", "The request body is not valid JSON."),
    },
    "payload_too_large": {
        "vi": ("Nội dung quá lớn", "Nội dung yêu cầu vượt quá giới hạn cho phép."),
        "en": ("Payload too large", "The request body is larger than allowed."),
    },
    "auth_required": {
        "vi": ("Cần đăng nhập", "Vui lòng đăng nhập để tiếp tục."),
        "en": ("Sign-in required", "Please sign in to continue."),
    },
    "token_invalid": {
        "vi": ("Mã truy cập không hợp lệ", "Mã truy cập không hợp lệ; vui lòng đăng nhập lại."),
        "en": ("Invalid access token", "The access token is not valid; please sign in again."),
    },
    "token_expired": {
        "vi": ("Mã truy cập đã hết hạn", "Mã truy cập đã hết hạn; hãy làm mới hoặc đăng nhập lại."),
        "en": ("Access token expired", "The access token has expired; refresh it or sign in again."),
    },
    "invalid_credentials": {
        "vi": ("Đăng nhập không thành công", "Số điện thoại hoặc mật khẩu không đúng."),
        "en": ("Sign-in failed", "The phone number or password is wrong."),
    },
    "refresh_rejected": {
        "vi": ("Phiên đăng nhập đã kết thúc", "Vui lòng đăng nhập lại."),
        "en": ("Session ended", "Please sign in again."),
    },
    "phone_taken": {
        "vi": ("Số điện thoại đã được đăng ký", "Đã có tài khoản dùng số điện thoại này."),
        "en": ("Phone number already registered", "An account with this phone number exists."),
    },
    "report_not_found": {
        "vi": ("Không tìm thấy phản ánh", "Phản ánh không tồn tại hoặc bạn không có quyền xem."),
        "en": ("Report not found", "The report does not exist or you may not see it."),
    },
    "idempotency_key_reused": {
        "vi": ("Idempotency-Key đã được dùng", "Khóa này đã được dùng cho một yêu cầu khác."),
        "en": ("Idempotency-Key reused", "This key was already used with a different request."),
    },
    "idempotency_key_in_progress": {
        "vi": ("Yêu cầu đang được xử lý", "Một yêu cầu với cùng Idempotency-Key đang được xử lý; vui lòng thử lại "
                                          "sau giây lát."),
        "en": ("Request in progress", "A request with the same Idempotency-Key is still being processed; "
                                      "retry in a moment."),
    },
    "invalid_idempotency_key": {
        "vi": ("Idempotency-Key không hợp lệ", "Idempotency-Key phải gồm 1 đến 128 ký tự ASCII in được."),
        "en": ("Invalid Idempotency-Key", "The Idempotency-Key must be 1 to 128 printable ASCII characters."),
    },
    "not_ready": {
        "vi": ("Dịch vụ chưa sẵn sàng", "Một hoặc nhiều dịch vụ phụ thuộc chưa sẵn sàng."),
        "en": ("Not ready", "One or more backend services are not ready."),
    },
    "method_not_allowed": {
        "vi": ("Phương thức không được hỗ trợ", None),
        "en": ("Method not allowed", None),
    },
}

# HTTP status -> language -> (title, detail): used when the code has no catalogue entry.
GENERIC: dict[int, dict[str, tuple[str, str]]] = {
    400: {"vi": ("Yêu cầu không hợp lệ", "Yêu cầu không hợp lệ."),
          "en": ("Bad request", "The request is not valid.")},
    401: {"vi": ("Chưa xác thực", "Cần đăng nhập."), "en": ("Unauthenticated", "Sign-in required.")},
    403: {"vi": ("Không có quyền", "Bạn không có quyền thực hiện thao tác này."),
          "en": ("Forbidden", "You may not do this.")},
    404: {"vi": ("Không tìm thấy", "Không tìm thấy tài nguyên được yêu cầu."),
          "en": ("Not found", "The requested resource does not exist.")},
    405: {"vi": ("Phương thức không được hỗ trợ", "Phương thức HTTP này không được hỗ trợ tại đây."),
          "en": ("Method not allowed", "This HTTP method is not supported here.")},
    409: {"vi": ("Xung đột", "Yêu cầu xung đột với trạng thái hiện tại."),
          "en": ("Conflict", "The request conflicts with the current state.")},
    413: {"vi": ("Nội dung quá lớn", "Nội dung yêu cầu vượt quá giới hạn cho phép."),
          "en": ("Payload too large", "The request body is larger than allowed.")},
    429: {"vi": ("Quá nhiều yêu cầu", "Vui lòng thử lại sau."),
          "en": ("Too many requests", "Please try again later.")},
    500: {"vi": ("Lỗi hệ thống", "Đã xảy ra lỗi; vui lòng thử lại sau."),
          "en": ("Internal error", "Something went wrong; please try again later.")},
    501: {"vi": ("Chưa được hỗ trợ", "Chức năng này chưa được hỗ trợ."),
          "en": ("Not implemented", "This function is not supported yet.")},
    503: {"vi": ("Dịch vụ tạm thời không khả dụng", "Vui lòng thử lại sau giây lát."),
          "en": ("Service unavailable", "Please try again in a moment.")},
    504: {"vi": ("Hết thời gian chờ", "Dịch vụ không phản hồi kịp; vui lòng thử lại."),
          "en": ("Timeout", "A backend service did not answer in time; please try again.")},
}


for _area, _catalogue in area_catalogues().items():
    _clash = set(_catalogue) & set(MESSAGES)
    if _clash:
        raise RuntimeError(f"gateway/messages/{_area}.py redefines {sorted(_clash)}")
    MESSAGES.update(_catalogue)


def negotiate(accept_language: str | None) -> str:
    """The best supported language in an Accept-Language header (q-values, regions); vi by default.

    Hand-written because babel is not a dependency and only two primary tags matter here.
    """
    best, best_q = DEFAULT, 0.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in SUPPORTED:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = primary, q
    return best


def message(code: str, status: int, lang: str) -> tuple[str, str | None]:
    """The localized (title, detail) of a problem; detail None means "use the service's message"."""
    if code in MESSAGES:
        return MESSAGES[code][lang]
    generic = GENERIC.get(status) or GENERIC[500 if status >= 500 else 400]
    title, _ = generic[lang]
    return title, None


def generic_detail(status: int, lang: str) -> str:
    """The per-status fallback detail."""
    generic = GENERIC.get(status) or GENERIC[500 if status >= 500 else 400]
    return generic[lang][1]

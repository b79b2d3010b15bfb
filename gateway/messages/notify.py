"""Messages of the notify area (inbox, preferences, templates, announcements, OTP delivery)."""

MESSAGES: dict[str, dict[str, tuple[str, str | None]]] = {
    "nothing_to_mark": {
        "vi": ("Chưa chọn thông báo", "Hãy chọn thông báo cần đánh dấu đã đọc, hoặc chọn tất cả."),
        "en": ("Nothing to mark", "List the notifications to mark read, or choose all."),
    },
    "too_many_ids": {
        "vi": ("Quá nhiều thông báo", "Mỗi lần chỉ đánh dấu tối đa 500 thông báo."),
        "en": ("Too many notifications", "Mark at most 500 notifications at once."),
    },
    "notification_not_found": {
        "vi": ("Không tìm thấy thông báo", "Thông báo không tồn tại trong hộp thư của bạn."),
        "en": ("Notification not found", "There is no such notification in your inbox."),
    },
    "preferences_invalid": {
        "vi": ("Thiết lập không hợp lệ", None),
        "en": ("Invalid preferences", None),
    },
    "preference_locked": {
        "vi": ("Không thể tắt", "Thông báo khẩn cấp và bảo mật không thể tắt."),
        "en": ("Cannot be switched off", "Urgent and security messages cannot be switched off."),
    },
    "template_invalid": {
        "vi": ("Mẫu tin không hợp lệ", None),
        "en": ("Invalid template", None),
    },
    "template_values_missing": {
        "vi": ("Thiếu dữ liệu cho mẫu tin", None),
        "en": ("Template values missing", None),
    },
    "unknown_message_type": {
        "vi": ("Loại tin không tồn tại", "Loại tin hoặc kênh gửi không được hỗ trợ."),
        "en": ("Unknown message type", "The message type or channel is not supported."),
    },
    "announcement_invalid": {
        "vi": ("Thông báo chung không hợp lệ", None),
        "en": ("Invalid announcement", None),
    },
    "announcement_scope": {
        "vi": ("Ngoài phạm vi", "UBND phường/xã chỉ được gửi thông báo cho phường/xã của mình."),
        "en": ("Outside your area", "Ward committees may announce to their own ward only."),
    },
    "announcement_exists": {
        "vi": ("Thông báo đã tồn tại", None),
        "en": ("Announcement exists", None),
    },
    "otp_rate_limited": {
        "vi": ("Gửi mã quá nhiều lần", "Số điện thoại này đã nhận quá nhiều mã; vui lòng thử lại sau."),
        "en": ("Too many codes", "This number received too many codes; please try again later."),
    },
    "otp_not_sent": {
        "vi": ("Chưa gửi được mã", "Không gửi được tin nhắn; vui lòng thử lại sau giây lát."),
        "en": ("Code not sent", "The text message could not be sent; please try again shortly."),
    },
    "not_a_mobile_number": {
        "vi": ("Không phải số di động", "Tin nhắn SMS chỉ gửi đến số di động Việt Nam."),
        "en": ("Not a mobile number", "Text messages go to Vietnamese mobile numbers only."),
    },
    "webhook_invalid": {
        "vi": ("Webhook không hợp lệ", None),
        "en": ("Invalid webhook", None),
    },
    "webhook_not_found": {
        "vi": ("Không tìm thấy webhook", "Webhook hoặc lần gửi không tồn tại trong tài khoản của bạn."),
        "en": ("Webhook not found", "There is no such webhook or delivery in your account."),
    },
}

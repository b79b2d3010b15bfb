"""Messages of the identity area (sign-up, codes, sessions, staff, identity verification).

invalid_credentials, refresh_rejected and phone_taken live in gateway/i18n.py.
"""

MESSAGES: dict[str, dict[str, tuple[str, str | None]]] = {
    "otp_invalid": {
        "vi": ("Mã xác thực không đúng", "Mã không đúng, đã hết hạn hoặc đã được dùng; hãy yêu cầu mã mới."),
        "en": ("Invalid code", "The code is wrong, expired or already used; ask for a new one."),
    },
    "otp_cooldown": {
        "vi": ("Vui lòng chờ", "Mã vừa được gửi; bạn có thể yêu cầu mã mới sau 60 giây."),
        "en": ("Please wait", "A code was just sent; you can ask for a new one after 60 seconds."),
    },
    "invalid_otp_purpose": {
        "vi": ("Mục đích không hợp lệ", "Mục đích phải là login, reset_password hoặc verify_phone."),
        "en": ("Invalid purpose", "The purpose must be login, reset_password or verify_phone."),
    },
    "invalid_phone": {
        "vi": ("Số điện thoại không hợp lệ", "Vui lòng nhập số di động Việt Nam."),
        "en": ("Invalid phone number", "Please enter a Vietnamese mobile number."),
    },
    "phone_not_mobile": {
        "vi": ("Không phải số di động", "Chỉ số di động mới nhận được mã SMS."),
        "en": ("Not a mobile number", "Only mobile numbers can receive SMS codes."),
    },
    "password_length": {
        "vi": ("Mật khẩu không hợp lệ", "Mật khẩu phải dài từ 8 đến 128 ký tự."),
        "en": ("Invalid password", "The password must be 8 to 128 characters long."),
    },
    "password_common": {
        "vi": ("Mật khẩu quá phổ biến", "Mật khẩu này quá dễ đoán; hãy chọn mật khẩu khác."),
        "en": ("Password too common", "This password is too easy to guess; choose another."),
    },
    "invalid_name": {
        "vi": ("Họ tên không hợp lệ", "Họ tên phải dài từ 1 đến 120 ký tự."),
        "en": ("Invalid name", "The full name must be 1 to 120 characters."),
    },
    "invalid_language": {
        "vi": ("Ngôn ngữ không hợp lệ", "Ngôn ngữ phải là vi hoặc en."),
        "en": ("Invalid language", "The language must be vi or en."),
    },
    "invalid_ward": {
        "vi": ("Phường/xã không hợp lệ", "Mã phường/xã không thuộc Thành phố Hồ Chí Minh."),
        "en": ("Invalid ward", "The ward code is not one of Ho Chi Minh City's wards and communes."),
    },
    "session_revoked": {
        "vi": ("Phiên đăng nhập đã kết thúc", None),
        "en": ("Session ended", None),
    },
    "session_not_found": {
        "vi": ("Không tìm thấy phiên", "Phiên đăng nhập không tồn tại."),
        "en": ("Session not found", "The session does not exist."),
    },
    "user_not_found": {
        "vi": ("Không tìm thấy tài khoản", "Tài khoản không tồn tại hoặc đã bị xóa."),
        "en": ("Account not found", "The account does not exist or was deleted."),
    },
    "name_locked": {
        "vi": ("Không thể đổi họ tên", "Họ tên của tài khoản đã xác thực danh tính lấy theo kết quả xác thực."),
        "en": ("Name cannot change", "The name of an identity-verified account comes from the verification."),
    },
    "staff_account": {
        "vi": ("Không thể tự xóa", "Tài khoản cán bộ do đơn vị quản lý vô hiệu hóa, không tự xóa."),
        "en": ("Cannot delete", "Staff accounts are disabled by their managers, not deleted."),
    },
    "invalid_personal_id": {
        "vi": ("Số định danh không hợp lệ", "Số định danh cá nhân phải gồm đúng 12 chữ số."),
        "en": ("Invalid personal ID", "A personal ID number has exactly 12 digits."),
    },
    "personal_id_province": {
        "vi": ("Số định danh không hợp lệ", "Mã tỉnh đăng ký khai sinh trong số định danh không tồn tại."),
        "en": ("Invalid personal ID", "The province code in the personal ID number does not exist."),
    },
    "personal_id_mismatch": {
        "vi": ("Số định danh không khớp", "Số định danh không khớp với ngày sinh hoặc giới tính đã nhập."),
        "en": ("Personal ID does not match", "The personal ID number disagrees with the birth date or sex."),
    },
    "invalid_birth_date": {
        "vi": ("Ngày sinh không hợp lệ", "Ngày sinh phải theo dạng YYYY-MM-DD và không ở tương lai."),
        "en": ("Invalid birth date", "The birth date must be YYYY-MM-DD and not in the future."),
    },
    "invalid_sex": {
        "vi": ("Giới tính không hợp lệ", "Giới tính phải là male hoặc female."),
        "en": ("Invalid sex", "Sex must be male or female."),
    },
    "identity_not_matched": {
        "vi": ("Chưa xác thực được danh tính", "Thông tin không khớp với dữ liệu dân cư."),
        "en": ("Identity not confirmed", "The details do not match the resident registry."),
    },
    "phone_not_verified": {
        "vi": ("Chưa xác thực số điện thoại", "Hãy xác thực số điện thoại trước."),
        "en": ("Phone not verified", "Verify your phone number first."),
    },
    "verification_locked": {
        "vi": ("Tạm khóa xác thực", "Bạn đã thử sai quá nhiều lần; vui lòng thử lại sau."),
        "en": ("Verification locked", "Too many failed attempts; please try again later."),
    },
    "staff_not_allowed": {
        "vi": ("Không có quyền", "Bạn không được quản lý vai trò hoặc đơn vị này."),
        "en": ("Not allowed", "You may not manage this role or agency."),
    },
    "invalid_role": {
        "vi": ("Vai trò không hợp lệ", "Vai trò không tồn tại, hoặc thiếu/thừa mã đơn vị."),
        "en": ("Invalid role", "Unknown role, or the agency is missing or not allowed for it."),
    },
    "reason_required": {
        "vi": ("Cần nêu lý do", "Hãy nêu lý do cần xem thông tin liên hệ (được ghi nhật ký)."),
        "en": ("Reason required", "Say why you need the contact data (it is logged)."),
    },
    "invalid_scope": {
        "vi": ("Phạm vi không hợp lệ", "Phạm vi quyền không tồn tại hoặc không phù hợp với ứng dụng."),
        "en": ("Invalid scope", "The scope does not exist or does not fit this client."),
    },
    "scope_not_allowed": {
        "vi": ("Phạm vi không được cấp", "Ứng dụng không được cấp phạm vi quyền này."),
        "en": ("Scope not granted", "This client was not granted that scope."),
    },
    "invalid_client": {
        "vi": ("Xác thực ứng dụng thất bại", "Mã ứng dụng hoặc khóa bí mật không đúng."),
        "en": ("Client authentication failed", "The client id or secret is wrong."),
    },
    "client_not_found": {
        "vi": ("Không tìm thấy ứng dụng", "Ứng dụng tích hợp không tồn tại."),
        "en": ("Client not found", "The integration client does not exist."),
    },
    "unsupported_grant_type": {
        "vi": ("Kiểu cấp quyền không hỗ trợ", "Chỉ hỗ trợ grant_type=client_credentials."),
        "en": ("Unsupported grant type", "Only grant_type=client_credentials is supported."),
    },
    "invalid_request": {
        "vi": ("Yêu cầu không hợp lệ", "Thông tin xác thực Basic không đúng định dạng."),
        "en": ("Invalid request", "The Basic credentials are malformed."),
    },
}

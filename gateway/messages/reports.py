"""Messages of the reports area."""

MESSAGES: dict[str, dict[str, tuple[str, str | None]]] = {
    "unknown_category": {
        "vi": ("Danh mục không tồn tại", "Danh mục phản ánh không tồn tại hoặc đã ngừng sử dụng."),
        "en": ("Unknown category", "The category does not exist or is no longer in use."),
    },
    "unknown_ward": {
        "vi": ("Phường/xã không hợp lệ", "Mã phường/xã không thuộc Thành phố Hồ Chí Minh."),
        "en": ("Unknown ward", "The ward code is not one of Ho Chi Minh City's wards and communes."),
    },
    "location_outside_city": {
        "vi": ("Vị trí ngoài thành phố", "Vị trí đã chọn nằm ngoài Thành phố Hồ Chí Minh."),
        "en": ("Location outside the city", "The chosen location is outside Ho Chi Minh City."),
    },
    "location_required": {
        "vi": ("Thiếu vị trí", "Phản ánh sự cố cần có vị trí trên bản đồ và phường/xã."),
        "en": ("Location required", "An incident report needs a point on the map and a ward."),
    },
    "category_kind_mismatch": {
        "vi": ("Danh mục không khớp loại", "Danh mục này không thuộc loại phản ánh đã chọn."),
        "en": ("Category does not match kind", "This category does not belong to the chosen kind."),
    },
    "photo_required": {
        "vi": ("Cần ảnh chụp", "Danh mục này cần ít nhất một ảnh chụp hiện trường; hãy tải ảnh lên rồi gửi lại."),
        "en": ("Photo required", "This category needs at least one photo of the problem; upload one and try again."),
    },
    "invalid_description": {
        "vi": ("Nội dung không hợp lệ", "Nội dung phải dài từ 10 đến 5000 ký tự."),
        "en": ("Invalid description", "The description must be 10 to 5000 characters."),
    },
    "invalid_transition": {
        "vi": ("Không thể thực hiện", "Trạng thái hiện tại của phản ánh không cho phép thao tác này."),
        "en": ("Action not possible", "The report's current state does not allow this action."),
    },
    "version_conflict": {
        "vi": ("Dữ liệu đã thay đổi", "Phản ánh vừa được người khác cập nhật; hãy tải lại và thử lại."),
        "en": ("Changed meanwhile", "The report was updated by someone else; reload and try again."),
    },
}

"""Accent-insensitive search terms and masking of personal data in public text."""

import pytest

from services.reports.domain.text import MASK, fold, mask_pii, search_terms


@pytest.mark.parametrize(("text", "folded"), [
    ("Đường ngập nước", "duong ngap nuoc"), ("ĐỔ RÁC", "do rac"), ("Cây đổ", "cay do"),
    ("Hẻm 12 Lê Thánh Tôn", "hem 12 le thanh ton"), ("phường Bến Thành", "phuong ben thanh"),
])
def test_fold_drops_vietnamese_diacritics_and_case(text, folded):
    assert fold(text) == folded


def test_search_terms_are_folded_words_and_bounded():
    assert search_terms("  Đường, ngập!  nước ") == ["duong", "ngap", "nuoc"]
    assert len(search_terms("a " * 50)) == 12


@pytest.mark.parametrize("pii", ["0901234567", "0901 234 567", "+84 90 123 4567", "090.123.4567",
                                 "079203001234", "an.nguyen@example.vn",
                                 "٠٧٩٢٠٣٠٠١٢٣٤"])   # \d is any script's digits: counted as such before scanning
def test_personal_data_is_masked(pii):
    masked = mask_pii(f"Liên hệ {pii} giúp tôi")
    assert pii not in masked and MASK in masked and masked.startswith("Liên hệ")


def test_ordinary_numbers_stay():
    text = "Ổ gà sâu 30cm trước số nhà 125/7, ngày 29/11/2026 lúc 7:30"
    assert mask_pii(text) == text


def test_distance_is_metres_on_the_ground():
    from services.reports.service_layer.queries import distance_m

    assert distance_m(10.7725, 106.6980, 10.7725, 106.6980) == 0
    assert 105 < distance_m(10.7725, 106.6980, 10.7735, 106.6980) < 116      # 0.001° latitude ≈ 111 m
    assert 108 < distance_m(10.7725, 106.6980, 10.7725, 106.6990) < 112      # 0.001° longitude at 10.8° N

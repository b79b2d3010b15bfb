"""Phone numbers and password policy."""

import pytest

from services.identity.domain.errors import InvalidPhone, WeakPassword
from services.identity.domain.model import check_password, normalise_phone


@pytest.mark.parametrize("raw", ["0901234567", "+84 90 123 4567", "84901234567", " 090-123-4567 "])
def test_vietnamese_mobiles_normalise_to_e164(raw):
    assert normalise_phone(raw) == "+84901234567"


@pytest.mark.parametrize("raw", ["", "abc", "12345", "+14155552671", "02838221234"])
def test_non_vietnamese_or_non_mobile_numbers_are_refused(raw):
    with pytest.raises(InvalidPhone):
        normalise_phone(raw)


def test_landline_gets_its_own_code():
    with pytest.raises(InvalidPhone) as err:
        normalise_phone("02838221234")  # a Ho Chi Minh City landline
    assert err.value.code == "phone_not_mobile"


@pytest.mark.parametrize(("password", "code"), [("short", "password_length"), ("12345678", "password_common"),
                                                ("MatKhau123", "password_common"), ("x" * 129, "password_length")])
def test_weak_passwords(password, code):
    with pytest.raises(WeakPassword) as err:
        check_password(password)
    assert err.value.code == code


def test_good_password_passes():
    check_password("mưa-sài-gòn-2025")

"""Identity rules that need no I/O: phone numbers, passwords, roles."""

from __future__ import annotations

import unicodedata

import phonenumbers
from phonenumbers import PhoneNumberType

from services.identity.domain.errors import InvalidPhone, WeakPassword
from servicekit.errors import InvalidArgument

ROLES = ("citizen", "officer", "agency_admin", "operator", "auditor")
AGENCY_ROLES = ("officer", "agency_admin")
LANGUAGES = ("vi", "en")
MIN_PASSWORD = 8
MAX_PASSWORD = 128
# The most common passwords (SecLists top list, plus local favourites); a longer list comes with issue 3.
COMMON_PASSWORDS = frozenset("""
12345678 123456789 1234567890 password password1 password123 qwertyui qwerty123 11111111
00000000 12341234 87654321 iloveyou abc12345 abcd1234 1q2w3e4r 1qaz2wsx zaq12wsx
admin123 welcome1 letmein1 sunshine football baseball princess matkhau matkhau123 anhyeuem
anhyeuem123 66668888 88888888 99999999 vietnam1 vietnam123 saigon123 hochiminh 123123123
""".split())


def normalise_phone(raw: str) -> str:
    """A Vietnamese mobile number in E.164, or InvalidPhone."""
    try:
        number = phonenumbers.parse((raw or "").strip(), "VN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone() from exc
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != "VN":
        raise InvalidPhone()
    if phonenumbers.number_type(number) != PhoneNumberType.MOBILE:
        raise InvalidPhone("only mobile numbers can receive SMS codes", code="phone_not_mobile")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def check_password(password: str) -> None:
    """Length 8..128 and not a common password."""
    if not (MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD):
        raise WeakPassword("password must be 8 to 128 characters", code="password_length")
    if password.lower() in COMMON_PASSWORDS:
        raise WeakPassword("password is too common", code="password_common")


def clean_name(name: str) -> str:
    """A display name: NFC, trimmed, 1..120 characters."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not 1 <= len(name) <= 120:
        raise InvalidArgument("full name must be 1 to 120 characters", code="invalid_name", field="full_name")
    return name


def check_language(language: str) -> str:
    """vi (default) or en."""
    language = (language or "vi").lower()
    if language not in LANGUAGES:
        raise InvalidArgument("language must be vi or en", code="invalid_language", field="language")
    return language

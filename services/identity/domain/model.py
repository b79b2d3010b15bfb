"""Identity rules that need no I/O: phone numbers, passwords, names, wards, roles."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberType
from vietnam_provinces import ProvinceCode, Ward

from services.identity.domain.errors import InvalidPhone, InvalidRole, InvalidWard, StaffNotAllowed, WeakPassword
from servicekit.errors import InvalidArgument

ROLES = ("citizen", "officer", "agency_admin", "operator", "auditor")
AGENCY_ROLES = ("officer", "agency_admin")
STAFF_ROLES = ("officer", "agency_admin", "operator", "auditor")
LANGUAGES = ("vi", "en")
MIN_PASSWORD = 8
MAX_PASSWORD = 128
# The most common passwords (SecLists top list, plus local favourites).
COMMON_PASSWORDS = frozenset("""
12345678 123456789 1234567890 password password1 password123 qwertyui qwerty123 11111111
00000000 12341234 87654321 iloveyou abc12345 abcd1234 1q2w3e4r 1qaz2wsx zaq12wsx
admin123 welcome1 letmein1 sunshine football baseball princess matkhau matkhau123 anhyeuem
anhyeuem123 66668888 88888888 99999999 vietnam1 vietnam123 saigon123 hochiminh 123123123
qwertyuiop 1234qwer 12345678910 11223344 55555555 77777777 22222222 33333333 44444444
123456789a a123456789 password12 passw0rd p@ssw0rd trustno1 superman batman123 dragon123
master123 monkey123 computer internet hello123 hello1234 abc123456 asdfghjkl zxcvbnm123
123qweasd qweasdzxc 147258369 987654321 123654789 159753456 789456123 456789123 thienthan
yeuemnhieu emyeuanh anhyeuemnhieu hanoi123 hanoi1234 saigon1234 congdanso congdanso1
""".split())
# Who may create or manage which staff role (least privilege; operators come from the bootstrap command).
MANAGES = {"operator": ("agency_admin", "officer", "auditor"), "agency_admin": ("officer",)}


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
    """A display name: NFC, inner whitespace collapsed, trimmed, 1..120 characters."""
    name = " ".join(unicodedata.normalize("NFC", name or "").split())
    if not 1 <= len(name) <= 120:
        raise InvalidArgument("full name must be 1 to 120 characters", code="invalid_name", field="full_name")
    return name


def check_language(language: str) -> str:
    """vi (default) or en."""
    language = (language or "vi").lower()
    if language not in LANGUAGES:
        raise InvalidArgument("language must be vi or en", code="invalid_language", field="language")
    return language


@lru_cache(maxsize=1)
def hcmc_ward_codes() -> frozenset[str]:
    """The 5-digit codes of the 168 commune-level units of Ho Chi Minh City (from 1 July 2025)."""
    return frozenset(f"{int(w.code):05d}" for w in Ward.iter_by_province(ProvinceCode.P_79))


def check_ward(code: str) -> str:
    """Empty (not given) or one of the city's ward codes."""
    code = (code or "").strip()
    if code and code not in hcmc_ward_codes():
        raise InvalidWard("not a ward or commune of Ho Chi Minh City", field="home_ward_code")
    return code


def check_staff_role(role: str, agency_code: str) -> None:
    """A staff role, with an agency exactly when the role is agency-scoped."""
    if role not in STAFF_ROLES:
        raise InvalidRole(f"unknown staff role {role!r}", field="role")
    if (role in AGENCY_ROLES) != bool(agency_code):
        raise InvalidRole("officers and agency admins need an agency; other roles must have none",
                          field="agency_code")


def check_may_manage(actor_role: str, actor_agency: str, role: str, agency_code: str) -> None:
    """Operators manage agency admins, officers and auditors; an agency admin its own officers only."""
    if role not in MANAGES.get(actor_role, ()):
        raise StaffNotAllowed(f"{actor_role} may not manage {role} accounts")
    if actor_role == "agency_admin" and agency_code != actor_agency:
        raise StaffNotAllowed("agency admins manage their own agency only")

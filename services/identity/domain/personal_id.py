"""The 12-digit personal ID number (số định danh cá nhân, Circular 07/2016/TT-BCA and its successors).

Structure: 3-digit province-of-registration code, 1 century/sex digit, 2-digit birth year, 6 digits.
Century/sex digit: 0/1 = male/female born 1900-1999, 2/3 = 2000-2099, 4/5 = 2100-2199,
6/7 = 2200-2299, 8/9 = 2300-2399.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.identity.domain.errors import InvalidPersonalId

# Province codes of registration (the 63 provinces before the 2025 merger; numbers issued keep them).
PROVINCES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn", "008": "Tuyên Quang",
    "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu", "014": "Sơn La", "015": "Yên Bái",
    "017": "Hòa Bình", "019": "Thái Nguyên", "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang",
    "025": "Phú Thọ", "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định", "037": "Ninh Bình",
    "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh", "044": "Quảng Bình", "045": "Quảng Trị",
    "046": "Thừa Thiên Huế", "048": "Đà Nẵng", "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định",
    "054": "Phú Yên", "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng", "070": "Bình Phước",
    "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai", "077": "Bà Rịa - Vũng Tàu",
    "079": "Hồ Chí Minh", "080": "Long An", "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh",
    "086": "Vĩnh Long", "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}
SEXES = ("male", "female")


@dataclass(frozen=True)
class PersonalId:
    """A parsed personal ID number."""

    number: str
    province_code: str
    century_start: int
    sex: str
    birth_year_2: int


def parse(number: str) -> PersonalId:
    """Parse a 12-digit number; InvalidPersonalId when malformed or the province code is unknown."""
    number = (number or "").strip()
    if len(number) != 12 or not number.isascii() or not number.isdigit():
        raise InvalidPersonalId("a personal ID number has exactly 12 digits", field="personal_id")
    if number[:3] not in PROVINCES:
        raise InvalidPersonalId("unknown province code", code="personal_id_province", field="personal_id")
    digit = int(number[3])
    return PersonalId(number=number, province_code=number[:3], century_start=1900 + 100 * (digit // 2),
                      sex=SEXES[digit % 2], birth_year_2=int(number[4:6]))


def check(number: str, birth_date: date, sex: str) -> PersonalId:
    """Parse and require agreement with the birth date (century and year) and sex given."""
    if sex not in SEXES:
        raise InvalidPersonalId("sex must be male or female", code="invalid_sex", field="sex")
    pid = parse(number)
    century_start = birth_date.year - birth_date.year % 100
    if pid.century_start != century_start or pid.sex != sex:
        raise InvalidPersonalId("the century/sex digit disagrees with the birth date or sex",
                                code="personal_id_mismatch", field="personal_id")
    if pid.birth_year_2 != birth_date.year % 100:
        raise InvalidPersonalId("the birth-year digits disagree with the birth date",
                                code="personal_id_mismatch", field="personal_id")
    return pid


def parse_birth_date(value: str) -> date:
    """YYYY-MM-DD, not in the future and not before 1900."""
    try:
        born = date.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise InvalidPersonalId("birth date must be YYYY-MM-DD", code="invalid_birth_date",
                                field="birth_date") from exc
    if not date(1900, 1, 1) <= born <= date.today():
        raise InvalidPersonalId("birth date out of range", code="invalid_birth_date", field="birth_date")
    return born

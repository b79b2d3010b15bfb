"""The 12-digit personal ID number: structure, province code, century/sex digit, birth year."""

from datetime import date

import pytest

from services.identity.domain import personal_id
from services.identity.domain.errors import InvalidPersonalId


@pytest.mark.parametrize(("number", "born", "sex"), [
    ("079090001234", date(1990, 5, 17), "male"),
    ("079190001234", date(1990, 5, 17), "female"),
    ("001205123456", date(2005, 1, 1), "male"),
    ("096305123456", date(2005, 12, 31), "female"),
    ("048099000001", date(1999, 6, 1), "male"),
])
def test_valid_numbers(number, born, sex):
    pid = personal_id.check(number, born, sex)
    assert pid.number == number and pid.sex == sex and pid.province_code == number[:3]


@pytest.mark.parametrize("number", ["", "07909000123", "0790900012345", "07909000123a", "０７９０９０００１２３４",
                                    "079 90001234"])
def test_not_twelve_ascii_digits(number):
    with pytest.raises(InvalidPersonalId) as err:
        personal_id.parse(number)
    assert err.value.code == "invalid_personal_id"


@pytest.mark.parametrize("number", ["000090001234", "003090001234", "078090001234", "097090001234", "999090001234"])
def test_unknown_province_codes(number):
    with pytest.raises(InvalidPersonalId) as err:
        personal_id.parse(number)
    assert err.value.code == "personal_id_province"


@pytest.mark.parametrize(("number", "born", "sex"), [
    ("079090001234", date(1990, 5, 17), "female"),   # digit 0 = male
    ("079290001234", date(1990, 5, 17), "male"),     # digit 2 = born 2000-2099
    ("079091001234", date(1990, 5, 17), "male"),     # year digits 91 != 90
    ("079005001234", date(2005, 5, 17), "male"),     # 2005 needs digit 2
])
def test_century_sex_and_year_must_agree(number, born, sex):
    with pytest.raises(InvalidPersonalId) as err:
        personal_id.check(number, born, sex)
    assert err.value.code == "personal_id_mismatch"


def test_century_digit_mapping():
    starts = {d: personal_id.parse(f"079{d}90001234").century_start for d in range(10)}
    assert starts == {0: 1900, 1: 1900, 2: 2000, 3: 2000, 4: 2100, 5: 2100, 6: 2200, 7: 2200, 8: 2300, 9: 2300}


def test_sex_must_be_given():
    with pytest.raises(InvalidPersonalId) as err:
        personal_id.check("079090001234", date(1990, 1, 1), "x")
    assert err.value.code == "invalid_sex"


@pytest.mark.parametrize("value", ["", "1990-13-01", "17/05/1990", "1899-12-31", "2999-01-01"])
def test_bad_birth_dates(value):
    with pytest.raises(InvalidPersonalId) as err:
        personal_id.parse_birth_date(value)
    assert err.value.code == "invalid_birth_date"

"""Resident-registry CSV: good rows kept, bad rows reported one by one."""

from datetime import date

from services.identity.domain.registry import parse_csv, same_name

GOOD = "079090001234,Nguyễn Văn An,1990-05-17,male"


def test_good_and_bad_rows():
    text = "\n".join([
        "personal_id,full_name,birth_date,sex",
        GOOD,
        "07909000123,Ngắn Số,1990-05-17,male",          # 11 digits
        "999090001234,Sai Tỉnh,1990-05-17,male",        # unknown province
        "079190001234,Trần Thị Bình,1990-05-17,male",   # digit 1 = female
        "079190001235,,1990-05-17,female",              # no name
        "079190001236,Lê Thị C,17/05/1990,female",      # bad date
        GOOD,                                           # duplicate
        "079305000001,  Phạm   Thị  Dung ,2005-03-04,FEMALE",
    ])
    entries, errors = parse_csv(text)
    assert [e.personal_id for e in entries] == ["079090001234", "079305000001"]
    assert entries[1].full_name == "Phạm Thị Dung" and entries[1].sex == "female"
    assert entries[1].birth_date == date(2005, 3, 4)
    assert [e.line for e in errors] == [3, 4, 5, 6, 7, 8]
    assert "12 digits" in errors[0].message and "province" in errors[1].message
    assert "century/sex" in errors[2].message and "full_name" in errors[3].message
    assert "YYYY-MM-DD" in errors[4].message and "duplicate" in errors[5].message
    assert all("079" not in e.message for e in errors)  # no personal data echoed


def test_missing_columns():
    entries, errors = parse_csv("personal_id,name\n079090001234,An\n")
    assert entries == [] and errors[0].line == 1 and "full_name" in errors[0].message


def test_bom_and_nfd_names_are_normalised():
    nfd = "Nguye\u0302\u0303n Va\u0306n An"
    entries, errors = parse_csv(f"\ufeffpersonal_id,full_name,birth_date,sex\n079090001234,{nfd},1990-05-17,male\n")
    assert errors == [] and entries[0].full_name == "Nguyễn Văn An"


def test_name_comparison():
    assert same_name("Nguyễn Văn An", "  nguyễn   VĂN an ")
    assert not same_name("Nguyễn Văn An", "Nguyen Van An")

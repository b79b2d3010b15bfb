"""Staff roles and who may manage whom; names and wards."""

import pytest

from services.identity.domain import model
from services.identity.domain.errors import InvalidRole, InvalidWard, StaffNotAllowed
from servicekit.errors import InvalidArgument


@pytest.mark.parametrize(("actor", "actor_agency", "role", "agency"), [
    ("operator", "", "agency_admin", "ubnd_26743"), ("operator", "", "officer", "thoatnuoc"),
    ("operator", "", "auditor", ""), ("agency_admin", "ubnd_26743", "officer", "ubnd_26743"),
])
def test_allowed(actor, actor_agency, role, agency):
    model.check_staff_role(role, agency)
    model.check_may_manage(actor, actor_agency, role, agency)


@pytest.mark.parametrize(("actor", "actor_agency", "role", "agency"), [
    ("operator", "", "operator", ""), ("agency_admin", "ubnd_26743", "officer", "thoatnuoc"),
    ("agency_admin", "ubnd_26743", "agency_admin", "ubnd_26743"), ("officer", "ubnd_26743", "officer", "ubnd_26743"),
    ("citizen", "", "officer", "ubnd_26743"), ("auditor", "", "auditor", ""),
])
def test_refused(actor, actor_agency, role, agency):
    with pytest.raises(StaffNotAllowed):
        model.check_may_manage(actor, actor_agency, role, agency)


@pytest.mark.parametrize(("role", "agency"), [("officer", ""), ("agency_admin", ""), ("auditor", "ioc"),
                                              ("citizen", ""), ("root", "")])
def test_role_agency_shape(role, agency):
    with pytest.raises(InvalidRole):
        model.check_staff_role(role, agency)


def test_wards_are_the_city_168():
    assert len(model.hcmc_ward_codes()) == 168
    assert model.check_ward("26743") == "26743" and model.check_ward("") == ""
    with pytest.raises(InvalidWard):
        model.check_ward("00001")


def test_names_are_nfc_and_collapsed():
    assert model.clean_name("  Nguye\u0302\u0303n   Va\u0306n  An ") == "Nguyễn Văn An"
    with pytest.raises(InvalidArgument):
        model.clean_name("   ")

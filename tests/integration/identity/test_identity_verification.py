"""Level 2: the resident-registry import (bad rows reported, good rows kept) and verification."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from sqlalchemy import select

from services.identity.adapters.orm import RegistryEntry
from services.identity.adapters.verifier import RegistryVerifier
from services.identity.domain.errors import (IdentityNotMatched, InvalidPersonalId, PhoneNotVerified,
                                             VerificationLocked)
from services.identity.service_layer import accounts, verification
from servicekit.auth import Principal
from servicekit.errors import PermissionDenied
from tests.integration.identity.conftest import PASSWORD

CSV = """personal_id,full_name,birth_date,sex
079090001234,Nguyễn Văn An,1990-05-17,male
079190005678,Trần Thị Bình,1990-02-01,female
12345,Số Ngắn,1990-01-01,male
079090009999,Lê Văn Sai,1991-01-01,male
"""
AN = {"number": "079090001234", "full_name": "nguyễn văn an", "birth_date": "1990-05-17", "sex": "male"}


async def _verify(identity, principal, **claim):  # noqa: ANN001, ANN202
    async with identity.uow() as uow:
        return await verification.verify_identity(uow, RegistryVerifier(), principal, **{**AN, **claim})


async def _import(identity, text: str = CSV):  # noqa: ANN001, ANN202
    async with identity.uow() as uow:
        return await verification.import_registry(uow, text)


async def test_import_keeps_good_rows_and_reports_bad_ones(identity):
    count, errors = await _import(identity)
    assert count == 2 and [(e.line, "12 digits" in e.message or "disagree" in e.message) for e in errors] == [
        (4, True), (5, True)]
    count, errors = await _import(identity, "personal_id,full_name,birth_date,sex\n"
                                            "079090001234,Nguyễn Văn Ân,1990-05-17,male\n")
    async with identity.uow() as uow:
        rows = (await uow.session.scalars(select(RegistryEntry).order_by(RegistryEntry.personal_id))).all()
    assert [r.full_name for r in rows] == ["Nguyễn Văn Ân", "Trần Thị Bình"]  # re-import updates


async def test_verification_raises_the_assurance_level_and_emits_user_verified(identity):
    await _import(identity)
    principal, _ = await identity.signed_up(name="Nguyễn Văn An")
    user = await _verify(identity, principal)
    assert (user.assurance_level, user.personal_id, user.full_name) == (2, "079090001234", "nguyễn văn an")
    assert (await identity.events())[-1] == "identity.v1.user_verified"
    async with identity.uow() as uow:
        exported = json.loads(await accounts.export_data(uow, principal))
    assert exported["identity_verification"]["personal_id"] == "079090001234"
    async with identity.uow() as uow:
        with pytest.raises(PermissionDenied):
            await accounts.update_profile(uow, principal, full_name="Tên Khác")
    other, _ = await identity.signed_up("0901000002")
    with pytest.raises(IdentityNotMatched):  # one person, one verified account
        await _verify(identity, other)


async def test_structure_is_checked_before_the_registry(identity):
    await _import(identity)
    principal, _ = await identity.signed_up()
    with pytest.raises(InvalidPersonalId) as err:
        await _verify(identity, principal, sex="female")
    assert err.value.code == "personal_id_mismatch"
    with pytest.raises(InvalidPersonalId) as err:
        await _verify(identity, principal, number="999090001234")
    assert err.value.code == "personal_id_province"


async def test_mismatches_are_generic_and_lock_after_five(identity):
    await _import(identity)
    principal, _ = await identity.signed_up()
    for claim in ({"full_name": "Nguyen Van An"}, {"birth_date": "1990-05-18"}, {"number": "079090001235"},
                  {"full_name": "Người Khác"}, {"full_name": "Người Khác Nữa"}):
        with pytest.raises(IdentityNotMatched):
            await _verify(identity, principal, **claim)
    with pytest.raises(VerificationLocked):
        await _verify(identity, principal)  # even the right details wait now
    assert len(await identity.audit("identity_verification_failed")) == 5


async def test_unverified_phones_cannot_verify_identity(identity):
    async with identity.uow() as uow:
        user = await accounts.create_account(accounts.Register(phone="0901000003", password=PASSWORD,
                                                               full_name="Chưa Xác Thực"), uow, verified=False)
    with pytest.raises(PhoneNotVerified):
        await _verify(identity, Principal(user_id=user.id, role="citizen"))


def test_import_command_prints_row_errors_and_exits_1(identity_url, tmp_path):
    path = tmp_path / "registry.csv"
    path.write_text(CSV, encoding="utf-8")
    env = {"IDENTITY_DATABASE_URL": identity_url, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "services.identity", "import-registry", str(path)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert "imported 2 row(s), refused 2" in proc.stdout
    assert f"{path}:4:" in proc.stderr and f"{path}:5:" in proc.stderr
    assert "079090009999" not in proc.stderr  # rows are named by line, not by personal data

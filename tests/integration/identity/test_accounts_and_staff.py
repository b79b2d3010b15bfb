"""Profile, data export, deletion; staff accounts, contact reads, signing-key rotation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select

from services.identity.adapters.orm import OtpCode, Session, SigningKey, User
from services.identity.domain.errors import InvalidCredentials, InvalidWard, PhoneTaken, StaffNotAllowed
from services.identity.service_layer import accounts, otp, sessions, staff
from servicekit.auth import JwtVerifier, Principal
from servicekit.errors import InvalidArgument, PermissionDenied
from tests.integration.identity.conftest import AUDIENCE, CFG, ISSUER, PASSWORD, detail

OPERATOR = Principal(user_id="op-1", role="operator")
ADMIN = Principal(user_id="adm-1", role="agency_admin", agency_code="ubnd_26743")


async def test_profile_update_checks_each_field(identity):
    principal, _ = await identity.signed_up()
    async with identity.uow() as uow:
        user = await accounts.update_profile(uow, principal, language="en", home_ward_code="26743",
                                             full_name="  Nguye\u0302\u0303n Văn   Anh ")
    assert (user.language, user.home_ward_code, user.full_name) == ("en", "26743", "Nguyễn Văn Anh")
    async with identity.uow() as uow:
        with pytest.raises(InvalidWard):
            await accounts.update_profile(uow, principal, home_ward_code="99999")
    [entry] = await identity.audit("profile_updated")
    assert detail(entry) == {"fields": ["full_name", "home_ward_code", "language"]}


async def test_export_holds_account_sessions_and_audit(identity):
    principal, _ = await identity.signed_up()
    async with identity.uow() as uow:
        data = json.loads(await accounts.export_data(uow, principal))
    assert data["account"]["phone"] == "+84901000001" and data["account"]["assurance_level"] == 1
    assert [s["id"] for s in data["sessions"]] == [principal.session_id]
    assert {a["action"] for a in data["audit_log"]} >= {"phone_verified", "login"}
    assert data["identity_verification"] is None


async def test_deletion_erases_personal_data_and_emits_user_deleted(identity):
    principal, tokens = await identity.signed_up()
    async with identity.uow() as uow:
        with pytest.raises(InvalidCredentials):
            await accounts.delete_account(uow, principal, password="wrong-password-1")
    async with identity.uow() as uow:
        await accounts.delete_account(uow, principal, password=PASSWORD)
    async with identity.uow() as uow:
        user = await uow.session.get(User, principal.user_id)
        assert (user.phone, user.full_name, user.password_hash, user.deleted_at is not None) == (None, "", None, True)
        assert all(s.revoked_at is not None and s.client_ip == "" for s in
                   (await uow.session.scalars(select(Session))).all())
        assert (await uow.session.scalars(select(OtpCode))).all() == []
    assert (await identity.events())[-1] == "identity.v1.user_deleted"
    async with identity.uow() as uow:
        with pytest.raises(Exception):
            await sessions.refresh(uow, CFG, token=tokens.refresh_token)
    again, _ = await identity.signed_up()  # the number is free again, for a new account
    assert again.user_id != principal.user_id


async def test_staff_creation_follows_least_privilege(identity):
    async with identity.uow() as uow:
        officer = await staff.create_staff(uow, ADMIN, phone="0912000222", full_name="Đỗ Văn Giang", role="officer",
                                           agency_code="ubnd_26743")
    assert (officer.role, officer.agency_code, officer.password_hash, officer.assurance_level) == (
        "officer", "ubnd_26743", None, 0)
    for actor, role, agency in ((ADMIN, "officer", "thoatnuoc"), (ADMIN, "agency_admin", "ubnd_26743"),
                                (OPERATOR, "operator", "")):
        async with identity.uow() as uow:
            with pytest.raises(StaffNotAllowed):
                await staff.create_staff(uow, actor, phone="0912000333", full_name="X", role=role, agency_code=agency)
    async with identity.uow() as uow:
        with pytest.raises(PhoneTaken):
            await staff.create_staff(uow, OPERATOR, phone="0912000222", full_name="Y", role="auditor", agency_code="")
    async with identity.uow() as uow:
        await staff.create_staff(uow, OPERATOR, phone="0912000444", full_name="Kiểm Toán", role="auditor",
                                 agency_code="")
    async with identity.uow() as uow:
        mine, _ = await staff.list_staff(uow.session, ADMIN, agency_code="")
        everyone, _ = await staff.list_staff(uow.session, OPERATOR)
    assert [u.id for u in mine] == [officer.id] and len(everyone) == 2
    assert [(detail(r)["role"], r.actor_id) for r in await identity.audit("staff_created")] == [
        ("officer", "adm-1"), ("auditor", "op-1")]


async def test_new_officer_signs_in_first_with_a_code_which_verifies_the_phone(identity):
    async with identity.uow() as uow:
        officer = await staff.create_staff(uow, ADMIN, phone="0912000222", full_name="Đỗ Văn Giang", role="officer",
                                           agency_code="ubnd_26743")
    async with identity.uow() as uow:
        await otp.request_code(uow, identity.sms, phone="0912000222", purpose="login")
    async with identity.uow() as uow:
        tokens = await sessions.login_with_code(uow, CFG, phone="0912000222",
                                                code=identity.sms.code("+84912000222", "login"), client_ip="")
    principal = await identity.verifier.verify(tokens.access_token)
    assert (principal.role, principal.agency_code, principal.assurance_level) == ("officer", "ubnd_26743", 1)
    async with identity.uow() as uow:
        disabled = await staff.disable_staff(uow, ADMIN, officer.id)
    assert disabled.disabled_at is not None
    async with identity.uow() as uow:
        with pytest.raises(Exception):
            await sessions.refresh(uow, CFG, token=tokens.refresh_token)
    async with identity.uow() as uow:
        with pytest.raises(StaffNotAllowed):
            await staff.disable_staff(uow, Principal(user_id="a2", role="agency_admin", agency_code="thoatnuoc"),
                                      officer.id)


async def test_contact_reads_are_audited_and_peer_lookups_skip_deleted(identity):
    resident, _ = await identity.signed_up()
    officer = Principal(user_id="off-1", role="officer", agency_code="ubnd_26743")
    async with identity.uow() as uow:
        with pytest.raises(InvalidArgument):
            await staff.user_contact(uow, officer, user_id=resident.user_id, reason="  ")
    async with identity.uow() as uow:
        user = await staff.user_contact(uow, officer, user_id=resident.user_id, reason="report 0198 follow-up")
    assert user.phone == "+84901000001"
    [read] = await identity.audit("contact_read")
    assert (read.actor_id, read.actor_role, read.subject_id) == ("off-1", "officer", resident.user_id)
    assert detail(read) == {"reason": "report 0198 follow-up"}
    async with identity.uow() as uow:
        found = await staff.contacts(uow.session, [resident.user_id, "nobody"])
        assert [u.id for u in found] == [resident.user_id]
        with pytest.raises(InvalidArgument):
            await staff.contacts(uow.session, ["x"] * 501)


async def _set_key(identity, kid: str, **fields: datetime) -> None:  # noqa: ANN001
    """Move a key's activation or retirement time (instead of waiting)."""
    async with identity.uow() as uow:
        key = await uow.session.get(SigningKey, kid)
        for name, value in fields.items():
            setattr(key, name, value)
        await uow.commit()


async def test_key_rotation_publishes_first_then_switches_and_old_tokens_keep_verifying(identity):
    principal, old_tokens = await identity.signed_up()
    old_kid = jwt.get_unverified_header(old_tokens.access_token)["kid"]
    async with identity.uow() as uow:
        new_kid, retired = await staff.rotate_signing_key(uow, OPERATOR, lead_s=600)
    assert retired == old_kid and new_kid != old_kid
    cached = JwtVerifier(identity.jwks, issuer=ISSUER, audience=AUDIENCE)  # fetches the JWKS once, now
    assert (await cached.verify(old_tokens.access_token)).user_id == principal.user_id
    assert {k["kid"] for k in json.loads(await identity.jwks())["keys"]} == {old_kid, new_kid}
    async with identity.uow() as uow:  # during the lead the old key still signs
        during = await sessions.refresh(uow, CFG, token=old_tokens.refresh_token)
    assert jwt.get_unverified_header(during.access_token)["kid"] == old_kid
    await _set_key(identity, new_kid, activates_at=datetime.now(UTC) - timedelta(seconds=1))
    await _set_key(identity, old_kid, retired_at=datetime.now(UTC) - timedelta(seconds=1))
    async with identity.uow() as uow:
        after = await sessions.refresh(uow, CFG, token=during.refresh_token)
    assert jwt.get_unverified_header(after.access_token)["kid"] == new_kid
    # the verifier that fetched before the switch knows the new key without refetching
    assert (await cached.verify(after.access_token)).session_id == principal.session_id
    assert (await cached.verify(during.access_token)).session_id == principal.session_id
    # once the verify window (2 x access TTL) has passed, the retired key leaves the set
    await _set_key(identity, old_kid, retired_at=datetime.now(UTC) - timedelta(seconds=2 * CFG.access_ttl + 1))
    assert {k["kid"] for k in json.loads(await identity.jwks())["keys"]} == {new_kid}


async def test_staff_cannot_delete_themselves(identity):
    async with identity.uow() as uow:
        officer = await staff.create_staff(uow, OPERATOR, phone="0912000222", full_name="Đỗ Văn Giang",
                                           role="auditor", agency_code="")
    async with identity.uow() as uow:
        with pytest.raises(PermissionDenied):
            await accounts.delete_account(uow, Principal(user_id=officer.id, role="auditor"), password="")

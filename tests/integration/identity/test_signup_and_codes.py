"""Sign-up with phone verification, SMS codes (expiry, tries, single use, cool-down), OTP log-in, reset."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.identity.adapters.orm import OtpCode, User
from services.identity.domain.errors import InvalidCredentials, OtpCooldown, OtpInvalid, RefreshRejected, WeakPassword
from services.identity.service_layer import accounts, otp, sessions
from tests.integration.identity.conftest import CFG, PASSWORD

PHONE, E164 = "0901000001", "+84901000001"


async def _register(identity, phone: str = PHONE, password: str = PASSWORD, name: str = "Nguyễn Văn An"):  # noqa: ANN001, ANN202
    async with identity.uow() as uow:
        return await accounts.register(accounts.Register(phone=phone, password=password, full_name=name), uow,
                                       identity.sms)


async def _verify(identity, code: str, phone: str = PHONE):  # noqa: ANN001, ANN202
    async with identity.uow() as uow:
        return await accounts.verify_phone(uow, CFG, phone=phone, code=code, client_ip="198.51.100.1")


async def _age_codes(identity, seconds: int) -> None:  # noqa: ANN001
    """Move every stored code `seconds` into the past (cool-down and expiry without sleeping)."""
    async with identity.uow() as uow:
        for row in (await uow.session.scalars(select(OtpCode))).all():
            row.created_at -= timedelta(seconds=seconds)
            row.expires_at -= timedelta(seconds=seconds)
        await uow.commit()


async def test_signup_sends_a_code_and_verification_gives_level_1_and_a_session(identity):
    user, wait = await _register(identity)
    assert (user.assurance_level, wait) == (0, 60)
    [sms] = identity.sms.sent
    assert sms["phone"] == E164 and sms["purpose"] == "verify_phone" and len(sms["code"]) == 6
    async with identity.uow() as uow:
        stored = (await uow.session.scalars(select(OtpCode))).one()
    assert stored.code_hash != sms["code"] and sms["code"] not in stored.code_hash
    assert "identity.v1.user_registered" not in await identity.events()  # pending accounts are not announced
    tokens = await _verify(identity, sms["code"])
    principal = await identity.verifier.verify(tokens.access_token)
    assert principal.assurance_level == 1 and principal.user_id == user.id and principal.session_id
    assert await identity.events() == ["identity.v1.user_registered"]
    with pytest.raises(OtpInvalid):
        await _verify(identity, sms["code"])  # single use


async def test_unverified_accounts_cannot_log_in_with_a_password(identity):
    await _register(identity)
    async with identity.uow() as uow:
        with pytest.raises(InvalidCredentials):
            await sessions.login(uow, CFG, phone=PHONE, password=PASSWORD, client_ip="198.51.100.1")


async def test_five_wrong_tries_kill_the_code(identity):
    await _register(identity)
    code = identity.sms.code(E164, "verify_phone")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        with pytest.raises(OtpInvalid):
            await _verify(identity, wrong)
    with pytest.raises(OtpInvalid):
        await _verify(identity, code)
    async with identity.uow() as uow:
        assert (await uow.session.scalars(select(OtpCode))).one().attempts == 5


async def test_expired_codes_are_refused(identity):
    await _register(identity)
    await _age_codes(identity, 301)
    with pytest.raises(OtpInvalid):
        await _verify(identity, identity.sms.code(E164, "verify_phone"))


async def test_resend_cool_down_then_only_the_newest_code_counts(identity):
    await _register(identity)
    first = identity.sms.code(E164, "verify_phone")
    with pytest.raises(OtpCooldown):
        async with identity.uow() as uow:
            await otp.request_code(uow, identity.sms, phone=PHONE, purpose="verify_phone")
    await _age_codes(identity, 61)
    async with identity.uow() as uow:
        assert await otp.request_code(uow, identity.sms, phone=PHONE, purpose="verify_phone") == 60
    second = identity.sms.code(E164, "verify_phone")
    if first != second:
        with pytest.raises(OtpInvalid):
            await _verify(identity, first)
    await _verify(identity, second)


async def test_signup_of_a_taken_number_looks_the_same_and_creates_nothing(identity):
    owner, _ = await identity.signed_up(PHONE)
    await _age_codes(identity, 61)
    decoy, wait = await _register(identity, name="Kẻ Mạo Danh")
    assert wait == 60 and decoy.assurance_level == 0 and decoy.id != owner.user_id
    assert identity.sms.sent[-1]["purpose"] == "login"  # the owner hears about it, with a log-in code
    async with identity.uow() as uow:
        users = (await uow.session.scalars(select(User))).all()
    assert [u.full_name for u in users] == ["Nguyễn Văn An"]


async def test_a_pending_signup_is_replaced_by_the_next_one(identity):
    first, _ = await _register(identity, name="Người Thứ Nhất", password="mat-khau-mot-1")
    await _age_codes(identity, 61)
    second, _ = await _register(identity, name="Người Thứ Hai", password="mat-khau-hai-2")
    assert first.id == second.id
    await _verify(identity, identity.sms.code(E164, "verify_phone"))
    async with identity.uow() as uow:
        with pytest.raises(InvalidCredentials):
            await sessions.login(uow, CFG, phone=PHONE, password="mat-khau-mot-1", client_ip="")
    async with identity.uow() as uow:
        assert await sessions.login(uow, CFG, phone=PHONE, password="mat-khau-hai-2", client_ip="")


async def test_codes_for_unknown_numbers_are_not_sent_but_answered_alike(identity):
    async with identity.uow() as uow:
        wait = await otp.request_code(uow, identity.sms, phone="0909999999", purpose="login")
    assert wait == 60 and identity.sms.sent == []
    with pytest.raises(OtpCooldown):  # the cool-down applies to unknown numbers too
        async with identity.uow() as uow:
            await otp.request_code(uow, identity.sms, phone="0909999999", purpose="login")


async def test_otp_login_and_purpose_binding(identity):
    principal, _ = await identity.signed_up(PHONE)
    await _age_codes(identity, 61)
    async with identity.uow() as uow:
        await otp.request_code(uow, identity.sms, phone=PHONE, purpose="login")
    code = identity.sms.code(E164, "login")
    with pytest.raises(OtpInvalid):
        async with identity.uow() as uow:  # a log-in code does not reset passwords
            await sessions.reset_password(uow, phone=PHONE, code=code, new_password="mat-khau-moi-9", client_ip="")
    async with identity.uow() as uow:
        tokens = await sessions.login_with_code(uow, CFG, phone=PHONE, code=code, client_ip="198.51.100.2")
    again = await identity.verifier.verify(tokens.access_token)
    assert again.user_id == principal.user_id and again.session_id != principal.session_id


async def test_password_reset_ends_every_session(identity):
    principal, tokens = await identity.signed_up(PHONE)
    await _age_codes(identity, 61)
    async with identity.uow() as uow:
        await otp.request_code(uow, identity.sms, phone=PHONE, purpose="reset_password")
    code = identity.sms.code(E164, "reset_password")
    with pytest.raises(WeakPassword):  # checked before the code is spent
        async with identity.uow() as uow:
            await sessions.reset_password(uow, phone=PHONE, code=code, new_password="12345678", client_ip="")
    async with identity.uow() as uow:
        await sessions.reset_password(uow, phone=PHONE, code=code, new_password="mat-khau-moi-9", client_ip="")
    async with identity.uow() as uow:
        with pytest.raises(RefreshRejected):
            await sessions.refresh(uow, CFG, token=tokens.refresh_token)
    async with identity.uow() as uow:
        assert await sessions.login(uow, CFG, phone=PHONE, password="mat-khau-moi-9", client_ip="")
    assert [r.subject_id for r in await identity.audit("password_reset")] == [principal.user_id]

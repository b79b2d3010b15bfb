"""Lockout per account and per IP, refresh rotation and reuse, the session list."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.identity.adapters.orm import Throttle
from services.identity.domain.errors import InvalidCredentials, RefreshRejected, SessionNotFound, SessionRevoked
from services.identity.service_layer import sessions
from services.identity.service_layer.users import caller
from tests.integration.identity.conftest import CFG, PASSWORD, detail

PHONE = "0901000001"


async def _login(identity, phone: str = PHONE, password: str = PASSWORD, ip: str = "198.51.100.1"):  # noqa: ANN001, ANN202
    async with identity.uow() as uow:
        return await sessions.login(uow, CFG, phone=phone, password=password, client_ip=ip)


async def test_account_locks_after_five_failures_with_growing_waits_and_the_same_error(identity):
    principal, _ = await identity.signed_up(PHONE)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await _login(identity, password="wrong-password-1")
    with pytest.raises(InvalidCredentials) as locked:
        await _login(identity)  # the right password while locked: same generic error
    assert locked.value.code == "invalid_credentials"
    async with identity.uow() as uow:
        rows = {t.key[:4]: t for t in (await uow.session.scalars(select(Throttle))).all()}
    first_lock = rows["acct"].locked_until
    assert rows["acct"].failures == 5 and first_lock is not None
    [lock] = await identity.audit("lockout")
    assert lock.subject_id == principal.user_id and detail(lock) == {"scope": "acct"}
    assert all(PHONE[1:] not in r.detail for r in await identity.audit("login_failed"))  # no phone numbers
    blocked = [detail(r)["blocked"] for r in await identity.audit("login_failed")]
    assert blocked == [False] * 5 + [True]
    # after the lock ends, one more failure locks again for twice as long
    await identity.execute("UPDATE throttles SET locked_until = NULL WHERE key LIKE 'acct:%'")
    with pytest.raises(InvalidCredentials):
        await _login(identity, password="wrong-password-1")
    async with identity.uow() as uow:
        row = (await uow.session.scalars(select(Throttle).where(Throttle.key.like("acct:%")))).one()
    assert row.failures == 6
    assert (row.locked_until - row.last_failure_at).total_seconds() == pytest.approx(60, abs=1)


async def test_unknown_numbers_lock_the_same_way(identity):
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            await _login(identity, phone="0909999999")
    async with identity.uow() as uow:
        row = (await uow.session.scalars(select(Throttle).where(Throttle.key.like("acct:%")))).one()
    assert row.failures == 5 and row.locked_until is not None and "0909999999" not in row.key


async def test_success_clears_the_account_counter(identity):
    await identity.signed_up(PHONE)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            await _login(identity, password="wrong-password-1")
    await _login(identity)
    async with identity.uow() as uow:
        keys = [t.key for t in (await uow.session.scalars(select(Throttle))).all()]
    assert keys == ["ip:198.51.100.1"]  # the IP keeps its count


async def test_an_ip_locks_after_twenty_failures_across_numbers(identity):
    await identity.signed_up(PHONE)
    for i in range(20):
        with pytest.raises(InvalidCredentials):
            await _login(identity, phone=f"09090000{i:02d}", ip="203.0.113.9")
    with pytest.raises(InvalidCredentials):
        await _login(identity, ip="203.0.113.9")  # right password, locked IP
    await _login(identity, ip="203.0.113.10")   # another address is fine
    assert [detail(r)["scope"] for r in await identity.audit("lockout")] == ["ip"]


async def test_refresh_rotates_and_reuse_revokes_the_session_with_an_audit_record(identity):
    principal, first = await identity.signed_up(PHONE)
    async with identity.uow() as uow:
        second = await sessions.refresh(uow, CFG, token=first.refresh_token, client_ip="198.51.100.7")
    assert second.refresh_token != first.refresh_token
    assert (await identity.verifier.verify(second.access_token)).session_id == principal.session_id
    async with identity.uow() as uow:
        with pytest.raises(RefreshRejected):
            await sessions.refresh(uow, CFG, token=first.refresh_token)  # reuse of a spent token
    async with identity.uow() as uow:
        with pytest.raises(RefreshRejected):
            await sessions.refresh(uow, CFG, token=second.refresh_token)  # the whole family is gone
    [reuse] = await identity.audit("refresh_reuse")
    assert reuse.subject_id == principal.user_id and detail(reuse)["session_id"] == principal.session_id
    async with identity.uow() as uow:
        with pytest.raises(SessionRevoked):
            await caller(uow.session, principal)


async def test_unknown_refresh_tokens_are_refused(identity):
    async with identity.uow() as uow:
        with pytest.raises(RefreshRejected):
            await sessions.refresh(uow, CFG, token="not-a-token")


async def test_list_revoke_one_and_revoke_others(identity):
    principal, _ = await identity.signed_up(PHONE)
    other = await identity.verifier.verify((await _login(identity, ip="198.51.100.2")).access_token)
    third = await identity.verifier.verify((await _login(identity, ip="198.51.100.3")).access_token)
    async with identity.uow() as uow:
        listed = await sessions.list_sessions(uow.session, principal.user_id)
    assert {s.id for s in listed} == {principal.session_id, other.session_id, third.session_id}
    assert {s.method for s in listed} == {"verify_phone", "password"}
    async with identity.uow() as uow:
        await sessions.revoke(uow, principal.user_id, other.session_id)
    async with identity.uow() as uow:
        with pytest.raises(SessionNotFound):
            await sessions.revoke(uow, "someone-else", third.session_id)
    async with identity.uow() as uow:
        assert await sessions.revoke_all(uow, principal.user_id, keep=principal.session_id) == 1
        await uow.commit()
    async with identity.uow() as uow:
        assert [s.id for s in await sessions.list_sessions(uow.session, principal.user_id)] == [principal.session_id]
        await caller(uow.session, principal)
        for gone in (other, third):
            with pytest.raises(SessionRevoked):
                await caller(uow.session, gone)

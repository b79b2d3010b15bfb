"""Identity flows over HTTP against the whole system: sign-up with the SMS code (read from the
development SMS outbox), OTP log-in, password reset, sessions, profile, export, deletion, and the
internal GetContacts RPC."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import grpc
import nats
import pytest
from sqlalchemy import select

from congdanso.identity.v1 import events_pb2, identity_pb2, identity_pb2_grpc
from services.identity.adapters.orm import OtpCode
from servicekit.db import make_engine, session_factory
from servicekit.grpcclient import auth_metadata, internal_metadata
from tests.e2e.conftest import CITIZEN, PASSWORD, bearer, poll, signed_up, sms_code, sms_count

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def test_sign_up_verify_phone_and_me(system):
    r = await system.http.post("/api/v1/auth/register", json={
        "phone": "0912 000 111", "password": PASSWORD, "full_name": "Phạm Thị Dung", "language": "en",
        "home_ward_code": "26740"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user"]["phone"] == "+84912000111" and body["user"]["assurance_level"] == 0
    assert (body["otp_expires_in"], body["resend_after"]) == (300, 60)
    pending = await system.http.post("/api/v1/auth/login", json={"phone": "0912000111", "password": PASSWORD})
    assert pending.status_code == 401 and pending.json()["code"] == "invalid_credentials"
    again = await system.http.post("/api/v1/auth/otp", json={"phone": "0912000111", "purpose": "verify_phone"})
    assert again.status_code == 429 and again.json()["code"] == "otp_cooldown"
    tokens = (await system.http.post("/api/v1/auth/verify", json={
        "phone": "+84912000111", "code": await sms_code(system, "+84912000111")})).json()
    me = (await system.http.get("/api/v1/me", headers=bearer(tokens))).json()
    assert (me["full_name"], me["language"], me["assurance_level"], me["home_ward_code"]) == (
        "Phạm Thị Dung", "en", 1, "26740")
    login = await system.http.post("/api/v1/auth/login", json={"phone": "0912000111", "password": PASSWORD})
    assert login.status_code == 200


async def test_otp_login_and_password_reset(system):
    await signed_up(system, "0912000112", "+84912000112")
    await _expire_cooldown(system, "+84912000112")
    before = sms_count(system)
    r = await system.http.post("/api/v1/auth/otp", json={"phone": "0912000112", "purpose": "login"})
    assert r.status_code == 202 and r.json() == {"expires_in": 300, "resend_after": 60}
    code = await sms_code(system, "+84912000112", after=before)
    wrong = await system.http.post("/api/v1/auth/otp/login", json={"phone": "0912000112",
                                                                   "code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "otp_invalid"
    ok = await system.http.post("/api/v1/auth/otp/login", json={"phone": "0912000112", "code": code})
    assert ok.status_code == 200
    reused = await system.http.post("/api/v1/auth/otp/login", json={"phone": "0912000112", "code": code})
    assert reused.status_code == 401 and reused.json()["code"] == "otp_invalid"
    await _expire_cooldown(system, "+84912000112")
    before = sms_count(system)
    assert (await system.http.post("/api/v1/auth/otp", json={"phone": "0912000112",
                                                              "purpose": "reset_password"})).status_code == 202
    code = await sms_code(system, "+84912000112", after=before)
    r = await system.http.post("/api/v1/auth/password/reset", json={
        "phone": "0912000112", "code": code, "new_password": "mat-khau-moi-2025"})
    assert r.status_code == 204, r.text
    refresh = await system.http.post("/api/v1/auth/refresh", json={"refresh_token": ok.json()["refresh_token"]})
    assert refresh.status_code == 401  # every session ended
    assert (await system.http.post("/api/v1/auth/login", json={
        "phone": "0912000112", "password": "mat-khau-moi-2025"})).status_code == 200


async def _expire_cooldown(system, e164: str) -> None:  # noqa: ANN001
    """Age the number's stored codes by a minute in identity's database (instead of sleeping)."""
    engine = make_engine(system.sup.cfg.database_urls["identity"])
    async with session_factory(engine)() as session:
        for row in (await session.scalars(select(OtpCode).where(OtpCode.phone == e164))).all():
            row.created_at -= timedelta(seconds=61)
        await session.commit()
    await engine.dispose()


async def test_sessions_list_revoke_and_logout(system):
    first = await signed_up(system, "0912000113", "+84912000113")
    second = (await system.http.post("/api/v1/auth/login", json={"phone": "0912000113", "password": PASSWORD})).json()
    third = (await system.http.post("/api/v1/auth/login", json={"phone": "0912000113", "password": PASSWORD})).json()
    listed = (await system.http.get("/api/v1/me/sessions", headers=bearer(first))).json()["items"]
    assert len(listed) == 3 and [s["current"] for s in listed].count(True) == 1
    assert {s["method"] for s in listed} == {"verify_phone", "password"} and listed[0]["client_ip"] == "127.0.0.1"
    mine = next(s for s in listed if s["current"])
    other_ids = [s["id"] for s in listed if not s["current"]]
    r = await system.http.delete(f"/api/v1/me/sessions/{other_ids[0]}", headers=bearer(first))
    assert r.status_code == 204
    assert (await system.http.delete("/api/v1/me/sessions/nope", headers=bearer(first))).json()["code"] == \
        "session_not_found"
    r = await system.http.post("/api/v1/me/sessions/revoke-others", headers=bearer(first))
    assert r.json() == {"revoked": 1}
    for gone in (second, third):
        assert (await system.http.post("/api/v1/auth/refresh", json={
            "refresh_token": gone["refresh_token"]})).status_code == 401
        me = await system.http.get("/api/v1/me", headers=bearer(gone))
        assert me.status_code == 401 and me.json()["code"] == "session_revoked"
    assert [s["id"] for s in (await system.http.get("/api/v1/me/sessions", headers=bearer(first))).json()["items"]] \
        == [mine["id"]]
    assert (await system.http.post("/api/v1/auth/logout", headers=bearer(first))).status_code == 204
    assert (await system.http.post("/api/v1/auth/refresh", json={
        "refresh_token": first["refresh_token"]})).status_code == 401


async def test_profile_export_and_deletion(system):
    tokens = await signed_up(system, "0912000114", "+84912000114", name="Hồ Văn Giàu")
    r = await system.http.patch("/api/v1/me", json={"language": "vi", "home_ward_code": "26743"},
                                headers=bearer(tokens))
    assert r.status_code == 200 and (r.json()["language"], r.json()["home_ward_code"]) == ("vi", "26743")
    bad = await system.http.patch("/api/v1/me", json={"home_ward_code": "99999"}, headers=bearer(tokens))
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_ward"
    export = (await system.http.get("/api/v1/me/export", headers=bearer(tokens))).json()
    assert export["account"]["phone"] == "+84912000114" and export["account"]["full_name"] == "Hồ Văn Giàu"
    assert len(export["sessions"]) == 1 and {"phone_verified", "login"} <= {a["action"] for a in export["audit_log"]}
    user_id = export["account"]["id"]
    nc = await nats.connect(system.sup.cfg.effective_nats_url)
    try:
        js = nc.jetstream()
        wrong = await system.http.post("/api/v1/me/delete", json={"password": "wrong-password-9"},
                                       headers=bearer(tokens))
        assert wrong.status_code == 401
        r = await system.http.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=bearer(tokens))
        assert r.status_code == 204

        async def deleted_event():
            try:
                msg = await js.get_last_msg("IDENTITY", "identity.v1.user_deleted")
            except Exception:  # noqa: BLE001 - not published yet
                return None
            event = events_pb2.UserDeleted.FromString(msg.data)
            return event if event.user_id == user_id else None

        assert await poll(deleted_event)
    finally:
        await nc.close()
    assert (await system.http.post("/api/v1/auth/login", json={
        "phone": "0912000114", "password": PASSWORD})).status_code == 401
    assert (await system.http.get("/api/v1/me", headers=bearer(tokens))).status_code in (401, 404)


async def test_get_contacts_is_for_notify_only(system):
    cfg = system.sup.cfg
    me = (await system.http.get("/api/v1/me", headers=await system.token(CITIZEN))).json()
    async with grpc.aio.insecure_channel(cfg.addr("identity")) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        request = identity_pb2.GetContactsRequest(user_ids=[me["id"], "unknown"])
        reply = await stub.GetContacts(request, metadata=internal_metadata("notify", cfg.internal_token))
        assert [(c.user_id, c.phone, c.language) for c in reply.contacts] == [(me["id"], "+84901234567", "vi")]
        for metadata in (internal_metadata("reports", cfg.internal_token), internal_metadata("notify", "forged"),
                         auth_metadata((await system.token(CITIZEN))["Authorization"][7:]), ()):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.GetContacts(request, metadata=metadata)
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

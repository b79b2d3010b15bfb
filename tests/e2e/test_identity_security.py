"""Security of identity over HTTP against the whole system: every refused-token case (at the
gateway and at a service), refresh-token reuse, lockout, no account enumeration, key rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from congdanso.identity.v1 import identity_pb2, identity_pb2_grpc
from services.identity.adapters.orm import SigningKey
from servicekit.db import make_engine, session_factory
from servicekit.grpcclient import auth_metadata, internal_metadata
from tests.e2e.conftest import CITIZEN, OPERATOR
from tests.e2e.conftest import PASSWORD, bearer, signed_up

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
AUDITOR = {"phone": "0978123456", "password": "kiemtoan-demo-2025"}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict, claims: dict, sign=lambda signing_input: b"") -> str:  # noqa: ANN001
    """A compact JWS built by hand (PyJWT refuses to make some of the bad ones)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


async def real_key(system) -> SigningKey:  # noqa: ANN001
    """Identity's signing key in use, read from its database (to sign otherwise-bad tokens)."""
    engine = make_engine(system.sup.cfg.database_urls["identity"])
    async with session_factory(engine)() as session:
        key = (await session.scalars(select(SigningKey).where(SigningKey.activates_at.is_(None))
                                     .order_by(SigningKey.created_at))).first()
    await engine.dispose()
    return key


def claims(**overrides: object) -> dict:
    now = int(time.time())
    return {"iss": "congdanso-identity", "aud": "congdanso", "sub": "u-forged", "iat": now, "exp": now + 300,
            "role": "operator", "sid": "s-forged", **overrides}


async def test_every_bad_token_is_refused_at_the_gateway_and_at_identity(system):
    key = await real_key(system)
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    public_x = json.loads(key.public_jwk)["x"]
    good = (await system.token(CITIZEN))["Authorization"][7:]
    head, body, sig = good.split(".")
    tampered_claims = {**json.loads(base64.urlsafe_b64decode(body + "==")), "role": "operator"}
    cases = {
        "alg_none": forge({"alg": "none", "kid": key.kid, "typ": "JWT"}, claims()),
        "hs256_with_public_key": forge({"alg": "HS256", "kid": key.kid}, claims(),
                                       lambda m: hmac.new(public_x.encode(), m, hashlib.sha256).digest()),
        "expired": jwt.encode(claims(exp=int(time.time()) - 60, iat=int(time.time()) - 1000), private,
                              algorithm="EdDSA", headers={"kid": key.kid}),
        "wrong_aud": jwt.encode(claims(aud="someone-else"), private, algorithm="EdDSA", headers={"kid": key.kid}),
        "wrong_iss": jwt.encode(claims(iss="evil-identity"), private, algorithm="EdDSA", headers={"kid": key.kid}),
        "unknown_kid": jwt.encode(claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA",
                                  headers={"kid": "not-a-known-kid"}),
        "stranger_key_known_kid": jwt.encode(claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA",
                                             headers={"kid": key.kid}),
        "tampered": f"{head}.{b64(json.dumps(tampered_claims).encode())}.{sig}",
    }
    async with grpc.aio.insecure_channel(system.sup.cfg.addr("identity")) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        for name, token in cases.items():
            r = await system.http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            expected = "token_expired" if name == "expired" else "token_invalid"
            assert (r.status_code, r.json()["code"]) == (401, expected), name
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub.GetMe(identity_pb2.GetMeRequest(), metadata=auth_metadata(token))
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED, name
        assert (await stub.GetMe(identity_pb2.GetMeRequest(), metadata=auth_metadata(good))).phone == "+84901234567"


async def test_refresh_reuse_revokes_the_session_and_is_audited(system):
    first = await signed_up(system, "0912000211", "+84912000211")
    rotated = await system.http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200
    reuse = await system.http.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401 and reuse.json()["code"] == "refresh_rejected"
    newest = await system.http.post("/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]})
    assert newest.status_code == 401  # the whole session is gone
    me = await system.http.get("/api/v1/me", headers=bearer(rotated.json()))
    assert me.json()["code"] == "session_revoked"
    user_id = jwt.decode(first["access_token"], options={"verify_signature": False})["sub"]
    audit = await system.http.get("/api/v1/audit", params={"action": "refresh_reuse", "subject_id": user_id},
                                  headers=await system.token(AUDITOR))
    assert audit.status_code == 200 and len(audit.json()["items"]) == 1


def _same(a, b) -> None:  # noqa: ANN001
    """Two problem answers are the same but for trace id and path."""
    strip = lambda r: {k: v for k, v in r.json().items() if k not in ("trace_id", "instance")}  # noqa: E731
    assert (a.status_code, strip(a)) == (b.status_code, strip(b))


async def test_lockout_gives_the_same_error_as_a_wrong_password_or_unknown_number(system):
    await signed_up(system, "0912000212", "+84912000212")
    wrong = [await system.http.post("/api/v1/auth/login", json={"phone": "0912000212", "password": "wrong-pass-1"})
             for _ in range(5)]
    locked = await system.http.post("/api/v1/auth/login", json={"phone": "0912000212", "password": PASSWORD})
    unknown = await system.http.post("/api/v1/auth/login", json={"phone": "0909777666", "password": PASSWORD})
    assert wrong[0].json()["code"] == "invalid_credentials"
    _same(wrong[0], locked)
    _same(wrong[0], unknown)
    entries = (await system.http.get("/api/v1/audit", params={"action": "lockout"},
                                     headers=await system.token(AUDITOR))).json()["items"]
    assert any(e["detail"] == {"scope": "acct"} for e in entries)


async def test_no_enumeration_on_sign_up_or_code_requests(system):
    taken = await system.http.post("/api/v1/auth/register", json={"phone": CITIZEN["phone"], "password": PASSWORD,
                                                                   "full_name": "Kẻ Mạo Danh"})
    free = await system.http.post("/api/v1/auth/register", json={"phone": "0909777555", "password": PASSWORD,
                                                                  "full_name": "Kẻ Mạo Danh"})
    assert taken.status_code == free.status_code == 201
    strip = lambda r: {**r.json(), "user": {k: v for k, v in r.json()["user"].items() if k not in ("id", "phone",  # noqa: E731
                                                                                                   "created_at")}}
    assert strip(taken) == strip(free)
    known = await system.http.post("/api/v1/auth/otp", json={"phone": OPERATOR["phone"], "purpose": "login"})
    unknown = await system.http.post("/api/v1/auth/otp", json={"phone": "0909777444", "purpose": "login"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (
        202, {"expires_in": 300, "resend_after": 60})
    bad_known = await system.http.post("/api/v1/auth/otp/login", json={"phone": OPERATOR["phone"], "code": "000000"})
    bad_unknown = await system.http.post("/api/v1/auth/otp/login", json={"phone": "0909777444", "code": "000000"})
    _same(bad_known, bad_unknown)


async def test_key_rotation_by_an_operator_keeps_tokens_working(system):
    citizen = await system.token(CITIZEN)
    old_kid = jwt.get_unverified_header(citizen["Authorization"][7:])["kid"]
    refused = await system.http.post("/api/v1/signing-keys/rotate", headers=citizen)
    assert refused.status_code == 403
    r = await system.http.post("/api/v1/signing-keys/rotate", headers=await system.token(OPERATOR))
    assert r.status_code == 200 and r.json()["retired_kid"] == old_kid and r.json()["kid"] != old_kid
    async with grpc.aio.insecure_channel(system.sup.cfg.addr("identity")) as channel:
        jwks = json.loads((await identity_pb2_grpc.IdentityServiceStub(channel).GetJwks(
            identity_pb2.GetJwksRequest(), metadata=internal_metadata("gateway", ""))).jwks_json)
    assert {k["kid"] for k in jwks["keys"]} >= {old_kid, r.json()["kid"]}  # published before it signs
    assert (await system.http.get("/api/v1/me", headers=citizen)).status_code == 200
    fresh = await system.token(CITIZEN)
    assert jwt.get_unverified_header(fresh["Authorization"][7:])["kid"] == old_kid  # still signing: the lead
    assert (await system.http.get("/api/v1/me", headers=fresh)).status_code == 200

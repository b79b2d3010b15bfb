"""Bearer tokens are verified at the edge against identity's JWKS before anything is forwarded."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import grpc
import httpx


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict, claims: dict, sign=lambda signing_input: b"") -> str:  # noqa: ANN001
    """A compact JWS built by hand, to send what a well-behaved library refuses to produce."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def claims() -> dict:
    now = int(time.time())
    return {"sub": "u-1", "role": "citizen", "iss": "test-identity", "aud": "test-audience", "iat": now,
            "exp": now + 300}


def assert_401(r: httpx.Response, code: str) -> None:
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_missing_token_is_auth_required(client, peers):
    r = await client.get("/api/v1/me")
    assert_401(r, "auth_required")
    assert r.headers["www-authenticate"] == "Bearer"
    assert "GetMe" not in peers.calls


async def test_expired_token(client, keys, peers):
    r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {keys.token(ttl=-60)}"})
    assert_401(r, "token_expired")
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "GetMe" not in peers.calls


async def test_token_signed_by_an_unknown_key(client, keys, peers):
    forged = keys.token(key=keys.stranger, kid="someone-else")
    assert_401(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}), "token_invalid")
    forged_same_kid = keys.token(key=keys.stranger)
    assert_401(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged_same_kid}"}),
               "token_invalid")
    assert "GetMe" not in peers.calls


async def test_alg_none_is_rejected(client, keys):
    token = handmade({"alg": "none", "typ": "JWT", "kid": keys.kid}, claims())
    assert_401(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), "token_invalid")


async def test_hs256_with_the_public_key_as_secret_is_rejected(client, keys):
    secret = json.loads(keys.jwks())["keys"][0]["x"].encode()
    token = handmade({"alg": "HS256", "typ": "JWT", "kid": keys.kid}, claims(),
                     lambda data: hmac.new(secret, data, hashlib.sha256).digest())
    assert_401(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), "token_invalid")


async def test_garbage_and_other_schemes_are_token_invalid(client):
    assert_401(await client.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"}), "token_invalid")
    assert_401(await client.get("/api/v1/me", headers={"Authorization": "Basic dTpw"}), "token_invalid")
    # Optional auth: a bad token is still refused rather than silently treated as anonymous.
    assert_401(await client.get("/api/v1/reports/r-1", headers={"Authorization": "Bearer x"}), "token_invalid")


async def test_wrong_audience_is_token_invalid(client, keys):
    token = keys.token(aud="another-service")
    assert_401(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), "token_invalid")


async def test_jwks_is_fetched_once_and_the_token_forwarded(client, peers, keys):
    token = keys.token()
    for _ in range(3):
        r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    assert len(peers.calls["GetJwks"]) == 1
    assert peers.last("GetMe").metadata["authorization"] == f"Bearer {token}"


async def test_service_side_unauthenticated_keeps_its_code(client, peers, bearer):
    peers.fail("GetMe", grpc.StatusCode.UNAUTHENTICATED, "session ended", code="session_revoked")
    r = await client.get("/api/v1/me", headers=bearer())
    assert_401(r, "session_revoked")
    assert r.json()["detail"] == "session ended"


async def test_identity_down_means_503_not_401(start_gateway, dead_backend, bearer):
    async with start_gateway(identity_grpc_addr=dead_backend) as client:
        r = await client.get("/api/v1/me", headers=bearer())
    assert r.status_code == 503
    assert r.json()["code"] == "unavailable"



def count_verifications(monkeypatch) -> list[str]:  # noqa: ANN001
    """Record every JwtVerifier.verify call (the token) while still verifying for real."""
    from servicekit.auth import JwtVerifier

    seen: list[str] = []
    original = JwtVerifier.verify

    async def counting(self, token: str):  # noqa: ANN001, ANN202
        seen.append(token)
        return await original(self, token)

    monkeypatch.setattr(JwtVerifier, "verify", counting)
    return seen


async def test_the_limiter_and_the_route_share_one_verification_per_request(start_gateway, bearer, keys,
                                                                            monkeypatch, peers):
    seen = count_verifications(monkeypatch)
    async with start_gateway() as client:  # rate limits on (the default): the limiter verifies first
        assert (await client.get("/api/v1/me", headers=bearer())).status_code == 200
        assert len(seen) == 1
        forged = keys.token(key=keys.stranger)
        assert_401(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}), "token_invalid")
        assert len(seen) == 2  # the rejection is shared too
        assert_401(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {keys.token(ttl=-60)}"}),
                   "token_expired")
        assert len(seen) == 3 and len(peers.calls["GetMe"]) == 1


async def test_without_the_limiter_the_route_verifies_by_itself(start_gateway, bearer, monkeypatch):
    seen = count_verifications(monkeypatch)
    async with start_gateway(rate_enabled=False) as client:
        assert (await client.get("/api/v1/me", headers=bearer())).status_code == 200
        assert len(seen) == 1


def test_state_reading_dependencies_are_coroutines():
    """Plain `def` dependencies run in the thread pool on every request; these only read app.state."""
    import inspect

    from gateway.auth import verifier
    from gateway.clients import backends

    assert inspect.iscoroutinefunction(backends) and inspect.iscoroutinefunction(verifier)

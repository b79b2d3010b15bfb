"""Token verification refuses every classic JWT attack."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from servicekit.auth import JwtVerifier
from servicekit.errors import Unauthenticated

ISS, AUD = "congdanso-identity", "congdanso"


def keypair(kid: str):  # noqa: ANN201
    private = Ed25519PrivateKey.generate()
    jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
    return private, jwk


def claims(**over) -> dict:  # noqa: ANN003
    now = int(time.time())
    return {"iss": ISS, "aud": AUD, "sub": "u1", "iat": now, "exp": now + 300, "role": "citizen",
            "sid": "s1", "acr": 1, **over}


class Jwks:
    def __init__(self, *jwks):  # noqa: ANN002
        self.keys, self.fetches = list(jwks), 0

    async def __call__(self) -> str:
        self.fetches += 1
        return json.dumps({"keys": self.keys})


@pytest.fixture
def setup():  # noqa: ANN201
    private, jwk = keypair("k1")
    source = Jwks(jwk)
    return private, jwk, source, JwtVerifier(source, issuer=ISS, audience=AUD)


async def test_valid_token_gives_principal(setup):
    private, _, _, verifier = setup
    p = await verifier.verify(jwt.encode(claims(role="officer", agency="ubnd_26743"), private, "EdDSA",
                                         headers={"kid": "k1"}))
    assert (p.user_id, p.role, p.agency_code, p.assurance_level, p.session_id) == ("u1", "officer", "ubnd_26743", 1, "s1")


@pytest.mark.parametrize(("over", "code"), [
    ({"exp": int(time.time()) - 60}, "token_expired"),
    ({"aud": "someone-else"}, "token_invalid"),
    ({"iss": "evil"}, "token_invalid"),
])
async def test_bad_claims_are_refused(setup, over, code):
    private, _, _, verifier = setup
    with pytest.raises(Unauthenticated) as err:
        await verifier.verify(jwt.encode(claims(**over), private, "EdDSA", headers={"kid": "k1"}))
    assert err.value.code == code


async def test_alg_none_and_hs256_with_public_key_are_refused(setup):
    _, jwk, _, verifier = setup
    seg = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    none_token = f"{seg({'alg': 'none', 'kid': 'k1'})}.{seg(claims())}."
    with pytest.raises(Unauthenticated):
        await verifier.verify(none_token)
    public_bytes = base64.urlsafe_b64decode(jwk["x"] + "==")
    signing_input = f"{seg({'alg': 'HS256', 'kid': 'k1', 'typ': 'JWT'})}.{seg(claims())}"
    sig = base64.urlsafe_b64encode(hmac.new(public_bytes, signing_input.encode(), hashlib.sha256).digest()).rstrip(b"=")
    with pytest.raises(Unauthenticated):
        await verifier.verify(f"{signing_input}.{sig.decode()}")


async def test_tampered_payload_is_refused(setup):
    private, _, _, verifier = setup
    token = jwt.encode(claims(), private, "EdDSA", headers={"kid": "k1"})
    head, body, sig = token.split(".")
    forged = base64.urlsafe_b64encode(json.dumps(claims(role="operator")).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthenticated):
        await verifier.verify(f"{head}.{forged}.{sig}")


async def test_unknown_kid_triggers_one_refetch_then_accepts_rotated_key(setup):
    _, jwk, source, verifier = setup
    new_private, new_jwk = keypair("k2")
    old_private = setup[0]
    await verifier.verify(jwt.encode(claims(), old_private, "EdDSA", headers={"kid": "k1"}))
    source.keys.append(new_jwk)  # identity rotated: both keys published
    verifier.refetch_interval = 0
    p = await verifier.verify(jwt.encode(claims(sub="u2"), new_private, "EdDSA", headers={"kid": "k2"}))
    assert p.user_id == "u2" and source.fetches == 2
    with pytest.raises(Unauthenticated):
        stranger, _ = keypair("k3")
        await verifier.verify(jwt.encode(claims(), stranger, "EdDSA", headers={"kid": "k3"}))


async def test_key_of_other_kid_does_not_verify(setup):
    _, _, source, verifier = setup
    other, other_jwk = keypair("k9")
    source.keys.append(other_jwk)
    signed_by_other_claiming_k1 = jwt.encode(claims(), other, "EdDSA", headers={"kid": "k1"})
    with pytest.raises(Unauthenticated):
        await verifier.verify(signed_by_other_claiming_k1)


def test_internal_caller_needs_the_exact_shared_token():
    from servicekit.auth import internal_caller

    assert internal_caller((("x-cds-internal", "notify:s3cret"),), "s3cret") == "notify"
    assert internal_caller((("x-cds-internal", "notify:wrong"),), "s3cret") is None
    assert internal_caller((("x-cds-internal", "notify:s3cret"),), "") is None  # not configured: never
    assert internal_caller((("x-cds-internal", "s3cret"),), "s3cret") is None
    assert internal_caller((("authorization", "Bearer s3cret"),), "s3cret") is None



async def test_a_remembered_token_is_still_refused_once_expired_or_its_key_is_gone(setup, monkeypatch):
    private, jwk, _, verifier = setup
    verifier.leeway = 0
    exp = int(time.time()) + 1
    token = jwt.encode(claims(exp=exp), private, "EdDSA", headers={"kid": "k1"})
    assert (await verifier.verify(token)).user_id == "u1"
    decodes = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **kw: decodes.append(1) or real_decode(*a, **kw))
    assert (await verifier.verify(token)).user_id == "u1"
    assert decodes == []                                   # the second use costs no signature check
    await asyncio.sleep(exp - time.time() + 0.05)
    with pytest.raises(Unauthenticated) as err:
        await verifier.verify(token)
    assert err.value.code == "token_expired"

    fresh = jwt.encode(claims(), private, "EdDSA", headers={"kid": "k1"})
    assert (await verifier.verify(fresh)).user_id == "u1"
    verifier._keys.pop("k1")                               # the key left the key set (a refetch agrees)
    verifier._fetch = Jwks().__call__
    with pytest.raises(Unauthenticated):
        await verifier.verify(fresh)


async def test_remembered_tokens_are_bounded(setup):
    private, _, _, verifier = setup
    verifier.remember = 3
    tokens = [jwt.encode(claims(sub=f"u{i}"), private, "EdDSA", headers={"kid": "k1"}) for i in range(5)]
    for t in tokens:
        await verifier.verify(t)
    assert list(verifier._verified) == tokens[2:]

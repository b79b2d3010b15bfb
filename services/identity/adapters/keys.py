"""Ed25519 signing keys: create, publish as JWKS, sign access tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.adapters.orm import SigningKey
from servicekit.events import new_id


def new_signing_key() -> SigningKey:
    """A fresh Ed25519 key row (kid is a UUIDv7)."""
    private = Ed25519PrivateKey.generate()
    kid = new_id()
    jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return SigningKey(kid=kid, alg="EdDSA", private_pem=pem, public_jwk=json.dumps(jwk),
                      created_at=datetime.now(UTC))


async def current_key(session: AsyncSession) -> SigningKey:
    """The newest unretired key; created on first use."""
    key = await session.scalar(
        select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at.desc()).limit(1)
    )
    if key is None:
        key = new_signing_key()
        session.add(key)
        await session.flush()
    return key


async def jwks(session: AsyncSession, *, verify_window_s: int) -> str:
    """Public keys still able to verify tokens (active ones and those retired within the window)."""
    keys = (await session.scalars(select(SigningKey))).all()
    now = datetime.now(UTC)
    live = [k for k in keys if k.retired_at is None
            or (now - k.retired_at.replace(tzinfo=UTC)).total_seconds() < verify_window_s]
    return json.dumps({"keys": [json.loads(k.public_jwk) for k in live]})


def sign(key: SigningKey, claims: dict) -> str:
    """Sign claims with `key` (kid in the header)."""
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": key.kid})

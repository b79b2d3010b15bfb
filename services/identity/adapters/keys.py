"""Ed25519 signing keys (create, rotate, publish as JWKS, sign) and other server-side secrets.

Rotation without downtime: a new key is published in the JWKS at once but signs only from
`activates_at` (a lead longer than verifiers' JWKS refetch interval), so every verifier knows it
before the first token it signs; the old key keeps signing until then and stays published until
its last token has expired (`verify_window_s`).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.adapters.orm import ServerSecret, SigningKey
from servicekit.events import new_id


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def new_signing_key(activates_at: datetime | None = None) -> SigningKey:
    """A fresh Ed25519 key row (kid is a UUIDv7)."""
    private = Ed25519PrivateKey.generate()
    kid = new_id()
    jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return SigningKey(kid=kid, alg="EdDSA", private_pem=pem, public_jwk=json.dumps(jwk),
                      created_at=datetime.now(UTC), activates_at=activates_at)


async def current_key(session: AsyncSession) -> SigningKey:
    """The newest key that is active now (activated, not retired); created on first use."""
    now = datetime.now(UTC)
    key = await session.scalar(
        select(SigningKey)
        .where(or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > now),
               or_(SigningKey.activates_at.is_(None), SigningKey.activates_at <= now))
        .order_by(SigningKey.created_at.desc()).limit(1)
    )
    if key is None:
        key = new_signing_key()
        session.add(key)
        await session.flush()
    return key


async def jwks(session: AsyncSession, *, verify_window_s: int) -> str:
    """Public keys able to verify tokens: pending, active, and retired within the window."""
    keys = (await session.scalars(select(SigningKey).order_by(SigningKey.created_at))).all()
    now = datetime.now(UTC)
    live = [k for k in keys if k.retired_at is None
            or (now - _aware(k.retired_at)).total_seconds() < verify_window_s]
    return json.dumps({"keys": [json.loads(k.public_jwk) for k in live]})


def sign(key: SigningKey, claims: dict) -> str:
    """Sign claims with `key` (kid in the header)."""
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": key.kid})


async def rotate(session: AsyncSession, *, lead_s: float = 0) -> tuple[SigningKey, SigningKey | None]:
    """Publish a new key that takes over signing in `lead_s` seconds; the keys in use retire then."""
    switch = datetime.now(UTC) + timedelta(seconds=lead_s)
    old = await current_key(session)
    for key in (await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None)))).all():
        key.retired_at = switch
    new = new_signing_key(activates_at=switch)
    session.add(new)
    await session.flush()
    return new, old


async def server_secret(session: AsyncSession, name: str) -> bytes:
    """A 256-bit random secret stored under `name`, created on first use."""
    row = await session.get(ServerSecret, name)
    if row is None:
        row = ServerSecret(name=name, value=secrets.token_hex(32), created_at=datetime.now(UTC))
        session.add(row)
        await session.flush()
    return bytes.fromhex(row.value)

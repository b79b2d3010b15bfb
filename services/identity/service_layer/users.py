"""Looking up accounts, and password hashing off the event loop."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.adapters.orm import Session, User
from services.identity.domain.errors import SessionRevoked, UserNotFound
from servicekit.auth import Principal

# argon2id, RFC 9106 "second recommended" (low-memory) profile: t=3, m=64 MiB, p=4 (argon2-cffi default).
hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no account (same work either way); made on first use,
    not at import, which kept ~0.3 s of CPU off every identity start."""
    return hasher.hash("timing-equaliser-not-a-password")


async def hash_password(password: str) -> str:
    """argon2id hash, computed in a worker thread (tens of milliseconds of CPU)."""
    return await asyncio.to_thread(hasher.hash, password)


async def password_matches(stored: str | None, password: str) -> bool:
    """Verify against `stored`, or against a dummy hash when there is none (same work either way)."""
    try:
        return await asyncio.to_thread(hasher.verify, stored or _dummy_hash(), password or "") and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


async def live_user_by_phone(session: AsyncSession, phone: str) -> User | None:
    """The account holding `phone` (deleted accounts hold no phone)."""
    return await session.scalar(select(User).where(User.phone == phone, User.deleted_at.is_(None)))


async def live_user(session: AsyncSession, user_id: str) -> User:
    """A not-deleted account, or UserNotFound."""
    user = await session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise UserNotFound("account not found")
    return user


async def caller(session: AsyncSession, principal: Principal) -> User:
    """The signed-in user, refusing tokens of revoked sessions and of disabled or deleted accounts."""
    user = await live_user(session, principal.user_id)
    if principal.session_id:
        own = await session.get(Session, principal.session_id)
        if own is None or own.revoked_at is not None:
            raise SessionRevoked("this session was ended; sign in again")
    if user.disabled_at is not None:
        raise SessionRevoked("this account is disabled")
    return user


def now() -> datetime:
    """The current time (UTC)."""
    return datetime.now(UTC)


def aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

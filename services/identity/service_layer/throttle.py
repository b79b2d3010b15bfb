"""Failure counters and locks in the database (so every replica sees them)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.adapters.orm import Throttle
from services.identity.domain.lockout import LockoutPolicy, locked


def _aware(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def account_key(secret: bytes, phone: str) -> str:
    """Key of a phone number (known or not, so unknown numbers lock the same way), without the number."""
    return "acct:" + hmac.new(secret, phone.encode(), hashlib.sha256).hexdigest()[:40]


def ip_key(client_ip: str) -> str:
    """Key of a client address."""
    return "ip:" + (client_ip or "unknown")[:45]


async def is_locked(session: AsyncSession, key: str, now: datetime) -> bool:
    """Whether `key` is locked now."""
    row = await session.get(Throttle, key)
    return row is not None and locked(_aware(row.locked_until), now)


async def fail(session: AsyncSession, key: str, policy: LockoutPolicy, now: datetime) -> bool:
    """Count one failure; True when it (re)starts a lock."""
    row = await session.get(Throttle, key)
    if row is None:
        row = Throttle(key=key, failures=0)
        session.add(row)
    row.failures = policy.counted(row.failures or 0, _aware(row.last_failure_at), now) + 1
    row.last_failure_at = now
    wait = policy.wait_after(row.failures)
    if wait:
        row.locked_until = now + wait
    return bool(wait)


async def clear(session: AsyncSession, key: str) -> None:
    """Forget the failures of `key` (after a success)."""
    row = await session.get(Throttle, key)
    if row is not None:
        await session.delete(row)

"""One-time SMS codes: 6 digits, 5-minute expiry, at most 5 tries, 60 s resend cool-down, single use."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from services.identity.domain.errors import InvalidPurpose

DIGITS = 6
TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_COOLDOWN = timedelta(seconds=60)
PURPOSES = ("verify_phone", "login", "reset_password")


def check_purpose(purpose: str) -> str:
    """One of PURPOSES."""
    if purpose not in PURPOSES:
        raise InvalidPurpose(f"purpose must be one of {', '.join(PURPOSES)}", field="purpose")
    return purpose


def new_code() -> str:
    """A uniformly random 6-digit code (leading zeros kept)."""
    return f"{secrets.randbelow(10 ** DIGITS):0{DIGITS}d}"


def digest(secret: bytes, phone: str, purpose: str, code: str) -> str:
    """HMAC-SHA256 of the code bound to its phone and purpose (what is stored, never the code)."""
    return hmac.new(secret, f"{phone}|{purpose}|{code}".encode(), hashlib.sha256).hexdigest()


def matches(secret: bytes, phone: str, purpose: str, code: str, stored: str) -> bool:
    """Constant-time comparison of a submitted code with the stored digest."""
    candidate = digest(secret, phone, purpose, (code or "").strip())
    return hmac.compare_digest(candidate, stored)


def resend_wait(last_sent_at: datetime | None, now: datetime) -> int:
    """Seconds until another code may be sent to the number (0 = now)."""
    if last_sent_at is None:
        return 0
    left = (last_sent_at + RESEND_COOLDOWN - now).total_seconds()
    return max(0, int(left + 0.999))


def usable(*, expires_at: datetime, attempts: int, consumed_at: datetime | None, now: datetime) -> bool:
    """A code can still be tried: not expired, not used, tries left."""
    return consumed_at is None and attempts < MAX_ATTEMPTS and now < expires_at

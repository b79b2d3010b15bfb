"""Webhooks for integration clients: which events, how they are signed, when to retry."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from services.notify.domain.errors import WebhookInvalid

EVENT_TYPES = (
    "reports.v1.report_submitted", "reports.v1.report_status_changed", "reports.v1.report_commented",
    "reports.v1.report_merged", "routing.v1.report_assigned", "routing.v1.report_transferred",
    "routing.v1.sla_warning", "routing.v1.report_escalated",
)
PENDING, DELIVERING, DELIVERED, FAILED = "pending", "delivering", "delivered", "failed"
SIGNATURE_HEADER, TIMESTAMP_HEADER, ID_HEADER = "Cds-Signature", "Cds-Timestamp", "Cds-Webhook-Id"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` (the receiver recomputes and compares)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={mac}"


def verify(secret: str, timestamp: int, body: bytes, signature: str, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: constant-time compare and reject stale timestamps (replays)."""
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


def check_subscription(url: str, event_types: list[str], *, allow_private: bool) -> None:
    """https (or http to a private address when allowed), known event types, at least one."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise WebhookInvalid("url must be http(s)://host/...", field="url")
    try:
        private = not ipaddress.ip_address(parts.hostname).is_global
    except ValueError:
        private = parts.hostname in ("localhost",) or parts.hostname.endswith(".local")
    if private and not allow_private:
        raise WebhookInvalid("private addresses are not allowed", field="url")
    if parts.scheme == "http" and not private:
        raise WebhookInvalid("public endpoints must use https", field="url")
    if not event_types or set(event_types) - set(EVENT_TYPES):
        raise WebhookInvalid(f"event types must be among {list(EVENT_TYPES)}", field="event_types")


@dataclass(frozen=True)
class WebhookPolicy:
    """Exponential back-off on 5xx/429/timeouts, given up after a bounded time or attempt count."""

    base_seconds: float = 10.0
    cap_seconds: float = 3600.0
    max_attempts: int = 8
    give_up_after: timedelta = timedelta(hours=24)
    timeout_seconds: float = 10.0

    def retryable(self, status_code: int | None) -> bool:
        """Timeouts/connection errors (None), 429 and 5xx are worth retrying; other answers are final."""
        return status_code is None or status_code == 429 or status_code >= 500

    def next_attempt(self, *, attempts: int, window_start: datetime, now: datetime) -> datetime | None:
        """When to try again, or None to give up."""
        wait = timedelta(seconds=min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1)))
        if attempts >= self.max_attempts or now + wait - window_start > self.give_up_after:
            return None
        return now + wait

"""Delivery states (as GOV.UK Notify), retry back-off, destinations and provider failures."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta

import phonenumbers

from services.notify.domain.errors import NotAMobileNumber

CREATED, SENDING, DELIVERED = "created", "sending", "delivered"
TEMPORARY, PERMANENT, TECHNICAL = "temporary-failure", "permanent-failure", "technical-failure"
STATUSES = (CREATED, SENDING, DELIVERED, TEMPORARY, PERMANENT, TECHNICAL)
DUE = (CREATED, TEMPORARY)          # a worker may claim these once not_before has passed
FINAL = (DELIVERED, PERMANENT, TECHNICAL)


class SendError(Exception):
    """A provider could not take the message."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason[:300]


class PermanentSendError(SendError):
    """Retrying cannot help (bad address, rejected by the provider)."""


class TemporarySendError(SendError):
    """Worth retrying later (5xx, 429, timeout, connection refused)."""


def backoff(attempts: int, *, base: float = 30.0, cap: float = 3600.0) -> timedelta:
    """Wait before retry number `attempts` + 1: base * 2^(attempts-1), at most `cap` seconds."""
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def mobile_e164(phone: str) -> str:
    """The number in E.164 if it is a valid Vietnamese mobile number, else NotAMobileNumber."""
    try:
        number = phonenumbers.parse(phone, "VN")
    except phonenumbers.NumberParseException as exc:
        raise NotAMobileNumber("not a phone number", field="phone") from exc
    kind = phonenumbers.number_type(number)
    if phonenumbers.region_code_for_number(number) != "VN" or kind not in (
            phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise NotAMobileNumber("SMS goes to mobile numbers only", field="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(destination: str) -> str:
    """What the delivery log keeps of an address: +8490*****67, a***@example.org."""
    if "@" in destination:
        local, _, domain = destination.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(destination) <= 6:
        return "*" * len(destination)
    return destination[:5] + "*" * (len(destination) - 7) + destination[-2:]


def rate_key(destination: str, secret: str) -> str:
    """A keyed hash of a destination for per-number rate limits (the number itself is not kept)."""
    return hmac.new(secret.encode(), destination.encode(), hashlib.sha256).hexdigest()[:32]

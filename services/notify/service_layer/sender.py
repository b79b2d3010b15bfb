"""The durable sender: claims due deliveries with a conditional UPDATE, sends, records the outcome.

A delivery leaves `created`/`temporary-failure` only through `UPDATE ... WHERE status = <seen>`;
the worker that changes the row sends it, every other worker (or a redelivered event) sees
rowcount 0. A row left in `sending` by a crashed worker is never resent: after
`sending_timeout` it becomes `technical-failure` (at most once, as GOV.UK Notify).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from congdanso.notify.v1 import events_pb2
from services.notify.adapters.contacts import Contact, ContactDirectory, ContactsUnavailable
from services.notify.adapters.email import EmailSender
from services.notify.adapters.orm import Delivery
from services.notify.adapters.push import PushSender
from services.notify.adapters.sms import SmsProvider
from services.notify.domain.delivery import (
    DELIVERED, DUE, PERMANENT, SENDING, TECHNICAL, TEMPORARY, PermanentSendError, SendError, TemporarySendError,
    backoff, mask, mobile_e164,
)
from services.notify.domain.errors import NotAMobileNumber
from services.notify.domain.limits import CircuitBreaker, TokenBucket
from services.notify.service_layer.notifying import Clock, utcnow

log = logging.getLogger(__name__)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OUTSIDE_CHANNELS = ("email", "sms", "push")
CONTACT_CHANNELS = frozenset({"email", "sms"})   # need the contact directory (push goes by user id)


@dataclass
class Channels:
    """The provider adapter of each outside channel."""

    email: EmailSender
    sms: SmsProvider
    push: PushSender


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries with exponential back-off."""

    max_attempts: int = 5
    base_seconds: float = 30.0
    cap_seconds: float = 3600.0
    sending_timeout: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class ChannelLimits:
    """Per channel: sends per minute, sends per local day (0 = no cap), breaker settings."""

    per_minute: int = 600
    per_day: int = 0
    breaker_threshold: int = 5
    breaker_cooldown: timedelta = timedelta(seconds=60)


class DeliveryWorker:
    """Sends due deliveries; safe to run in several processes at once."""

    def __init__(self, uow_factory, channels: Channels, contacts: ContactDirectory, *,  # noqa: ANN001
                 clock: Clock = utcnow, policy: RetryPolicy = RetryPolicy(), batch: int = 50,
                 idle_poll: float = 1.0, limits: dict[str, ChannelLimits] | None = None):
        self.uow, self.channels, self.contacts = uow_factory, channels, contacts
        self.clock, self.policy, self.batch, self.idle_poll = clock, policy, batch, idle_poll
        self.limits = {c: (limits or {}).get(c, ChannelLimits()) for c in OUTSIDE_CHANNELS}
        self.breakers = {c: CircuitBreaker(clock, threshold=lim.breaker_threshold, cooldown=lim.breaker_cooldown)
                         for c, lim in self.limits.items()}
        self.buckets = {c: TokenBucket(clock, lim.per_minute) for c, lim in self.limits.items()}

    async def run(self) -> None:
        """Loop forever: send what is due, sleep when nothing is."""
        pause = self.idle_poll
        while True:
            try:
                sent = await self.run_once()
                pause = self.idle_poll
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - database away: keep the rows, try again later
                log.exception("delivery worker pass failed")
                pause = min(pause * 2, 30.0)
                sent = 0
            if sent == 0:
                await asyncio.sleep(pause)

    async def run_once(self) -> int:
        """One pass: reap stuck rows, claim due ones, send them; returns how many were attempted."""
        await self.reap_stuck()
        claimed = [d for d in [await self.claim(i, s) for i, s in await self.admitted()] if d is not None]
        if not claimed:
            return 0
        contacts, ready = await self.look_up_contacts(claimed)
        for d in ready:
            await self.deliver(d, contacts.get(d.user_id, Contact()))
        return len(claimed)

    async def look_up_contacts(self, claimed: list[Delivery]) -> tuple[dict[str, Contact], list[Delivery]]:
        """Contacts of the people with email/SMS deliveries among `claimed`, and the deliveries to send now.

        The directory is asked only for email and SMS. When it cannot answer, those deliveries end
        as temporary failures (retried with back-off; the channel breakers are not touched, the
        provider is not at fault) and push deliveries go ahead. Any lookup error counts as
        unavailable: a claimed row must never be left in `sending`.
        """
        needing = [d for d in claimed if d.channel in CONTACT_CHANNELS]
        if not needing:
            return {}, claimed
        try:
            return await self.contacts.lookup(sorted({d.user_id for d in needing})), claimed
        except ContactsUnavailable as exc:
            reason = f"contacts unavailable: {exc}"
        except Exception as exc:  # noqa: BLE001 - a directory bug must not strand the claimed rows
            log.exception("contact lookup failed unexpectedly")
            reason = f"contacts unavailable: unexpected {type(exc).__name__}"
        log.warning("contact directory unavailable; %d deliveries wait", len(needing), extra={"reason": reason})
        for d in needing:
            await self._finish(d, TemporarySendError(reason))
        return {}, [d for d in claimed if d.channel not in CONTACT_CHANNELS]

    async def due(self, channel: str | None = None, limit: int | None = None) -> list[tuple[str, str]]:
        """(id, status) of deliveries whose time has come, oldest first."""
        q = (select(Delivery.id, Delivery.status).where(Delivery.status.in_(DUE), Delivery.not_before <= self.clock())
             .order_by(Delivery.not_before, Delivery.id).limit(limit or self.batch))
        if channel:
            q = q.where(Delivery.channel == channel)
        async with self.uow() as uow:
            return [(r.id, r.status) for r in (await uow.session.execute(q)).all()]

    async def admitted(self) -> list[tuple[str, str]]:
        """Due deliveries each channel may send now: breaker closed, rate and daily cap permitting.
        The rest stay due (they wait; nothing is lost)."""
        out: list[tuple[str, str]] = []
        for channel, limits in self.limits.items():
            room = self.breakers[channel].allowance(self.batch)
            if room and limits.per_day:
                room = min(room, max(0, limits.per_day - await self.sent_today(channel)))
            rows = await self.due(channel, room) if room else []
            granted = self.buckets[channel].take(len(rows)) if rows else 0
            out += rows[:granted]
        return out

    async def sent_today(self, channel: str) -> int:
        """Sends started on `channel` since midnight in Ho Chi Minh City."""
        local = self.clock().astimezone(TZ)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        q = select(func.count()).select_from(Delivery).where(
            Delivery.channel == channel, Delivery.status.in_((SENDING, DELIVERED)), Delivery.updated_at >= midnight)
        async with self.uow() as uow:
            return await uow.session.scalar(q) or 0

    async def claim(self, delivery_id: str, seen_status: str) -> Delivery | None:
        """Move one row to `sending` if nobody else did; the row when this worker owns the send."""
        now = self.clock()
        async with self.uow() as uow:
            result = await uow.session.execute(
                update(Delivery).where(Delivery.id == delivery_id, Delivery.status == seen_status,
                                       Delivery.not_before <= now)
                .values(status=SENDING, attempts=Delivery.attempts + 1, updated_at=now))
            if result.rowcount != 1:
                return None
            await uow.commit()
            return await uow.session.get(Delivery, delivery_id)

    async def deliver(self, d: Delivery, contact: Contact) -> None:
        """Send one claimed delivery through its channel and record what happened."""
        try:
            destination, ref = await self._send(d, contact)
        except TemporarySendError as exc:
            self.breakers[d.channel].failed()
            await self._finish(d, exc)
        except SendError as exc:
            await self._finish(d, exc)
        except NotAMobileNumber as exc:
            await self._finish(d, PermanentSendError(exc.code))
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not lose the message: retry
            log.exception("delivery failed unexpectedly", extra={"delivery_id": d.id})
            await self._finish(d, TemporarySendError(f"unexpected {type(exc).__name__}"))
        else:
            self.breakers[d.channel].succeeded()
            await self._set(d.id, status=DELIVERED, provider_ref=ref[:120], destination=destination, reason="")

    async def _send(self, d: Delivery, contact: Contact) -> tuple[str, str]:
        """(masked destination, provider reference)."""
        if d.channel == "email":
            if not contact.email:
                raise PermanentSendError("no_contact")
            return mask(contact.email), await self.channels.email.send(contact.email, d.subject, d.body)
        if d.channel == "sms":
            if not contact.phone:
                raise PermanentSendError("no_contact")
            phone = mobile_e164(contact.phone)
            return mask(phone), await self.channels.sms.send(phone, d.body)
        if d.channel == "push":
            data = {"notification_id": d.notification_id, "type": d.message_type}
            return f"user:{d.user_id[:8]}", await self.channels.push.send(d.user_id, d.subject, d.body, data)
        raise PermanentSendError(f"unknown channel {d.channel}")

    async def _finish(self, d: Delivery, exc: SendError) -> None:
        """Record a failure: retry later, or give up (permanent emits notify.v1.delivery_failed)."""
        if isinstance(exc, PermanentSendError):
            await self._set(d.id, status=PERMANENT, reason=exc.reason, failed=d)
        elif d.attempts >= self.policy.max_attempts:
            await self._set(d.id, status=TECHNICAL, reason=exc.reason)
        else:
            wait = backoff(d.attempts, base=self.policy.base_seconds, cap=self.policy.cap_seconds)
            await self._set(d.id, status=TEMPORARY, reason=exc.reason, not_before=self.clock() + wait)

    async def _set(self, delivery_id: str, *, failed: Delivery | None = None, **values: object) -> None:
        """Leave `sending` (only from `sending`), emitting delivery_failed with a permanent failure."""
        async with self.uow() as uow:
            result = await uow.session.execute(
                update(Delivery).where(Delivery.id == delivery_id, Delivery.status == SENDING)
                .values(updated_at=self.clock(), **values))
            if result.rowcount == 1 and failed is not None:
                uow.emit(events_pb2.DeliveryFailed(
                    notification_id=failed.notification_id, channel=failed.channel, reason=str(values["reason"]),
                    delivery_id=failed.id, user_id=failed.user_id, message_type=failed.message_type))
            await uow.commit()

    async def reap_stuck(self) -> int:
        """Rows in `sending` for longer than the timeout (a worker died mid-send) -> technical-failure."""
        now: datetime = self.clock()
        async with self.uow() as uow:
            result = await uow.session.execute(
                update(Delivery).where(Delivery.status == SENDING,
                                       Delivery.updated_at < now - self.policy.sending_timeout)
                .values(status=TECHNICAL, reason="interrupted while sending", updated_at=now))
            await uow.commit()
            return result.rowcount or 0

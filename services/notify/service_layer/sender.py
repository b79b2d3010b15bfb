"""The durable sender: claims due deliveries with a conditional UPDATE, sends, records the outcome.

A delivery leaves `created`/`temporary-failure` only through `UPDATE ... WHERE status = <seen>`;
the worker that changes the row sends it, every other worker (or a redelivered event) does not get
it back. A row left in `sending` by a crashed worker is never resent: after `sending_timeout` it
becomes `technical-failure` (at most once, as GOV.UK Notify).

A pass claims its rows in one transaction (one UPDATE ... RETURNING per seen status) and records
their outcomes in one more, after the sends (also when the pass fails midway), instead of two
transactions per delivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Row

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
from services.notify.service_layer.unit_of_work import core

log = logging.getLogger(__name__)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OUTSIDE_CHANNELS = ("email", "sms", "push")
CONTACT_CHANNELS = frozenset({"email", "sms"})   # need the contact directory (push goes by user id)
_T = Delivery.__table__
_DUE = (select(_T.c.id, _T.c.status)
        .where(_T.c.status.in_(DUE), _T.c.not_before <= bindparam("now"), _T.c.channel == bindparam("channel"))
        .order_by(_T.c.not_before, _T.c.id).limit(bindparam("limit")))
_CLAIM = (update(_T).where(_T.c.id.in_(bindparam("ids", expanding=True)), _T.c.status == bindparam("seen"),
                           _T.c.not_before <= bindparam("now"))
          .values(status=SENDING, attempts=_T.c.attempts + 1, updated_at=bindparam("claimed_at"))
          .returning(*_T.c))
# SET from each parameter set's keys (status, reason, updated_at, ...); only rows still `sending`
_LEAVE_SENDING = update(_T).where(_T.c.id == bindparam("delivery_id"), _T.c.status == SENDING)
_REAP = (update(_T).where(_T.c.status == SENDING, _T.c.updated_at < bindparam("stuck_before"))
         .values(status=TECHNICAL, reason="interrupted while sending", updated_at=bindparam("now")))

Claimed = Row   # a claimed delivery: the columns of Delivery, as they are after the claim
Outcome = tuple[Claimed, dict[str, object]]   # a sent or failed delivery and the values to record


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
        claimed = await self.claim_many(await self.admitted())
        if not claimed:
            return 0
        outcomes: list[Outcome] = []
        try:
            contacts, ready = await self.look_up_contacts(claimed, outcomes)
            for d in ready:
                outcomes.append(await self.deliver(d, contacts.get(d.user_id, Contact())))
        finally:
            # also when the pass fails midway: what was sent must not end as an interrupted send
            await self.record(outcomes)
        return len(claimed)

    async def look_up_contacts(self, claimed: list[Claimed],
                               outcomes: list[Outcome]) -> tuple[dict[str, Contact], list[Claimed]]:
        """Contacts of the people with email/SMS deliveries among `claimed`, and the deliveries to send now.

        The directory is asked only for email and SMS. When it cannot answer, those deliveries end
        as temporary failures (added to `outcomes`; retried with back-off; the channel breakers
        are not touched, the provider is not at fault) and push deliveries go ahead. Any lookup
        error counts as unavailable: a claimed row must never be left in `sending`.
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
        outcomes += [self._finish(d, TemporarySendError(reason)) for d in needing]
        return {}, [d for d in claimed if d.channel not in CONTACT_CHANNELS]

    async def due(self, channel: str | None = None, limit: int | None = None) -> list[tuple[str, str]]:
        """(id, status) of deliveries whose time has come, oldest first."""
        now, limit = self.clock(), limit or self.batch
        async with self.uow(read_only=True) as uow:
            conn = await core(uow.session)
            if channel:
                rows = await conn.execute(_DUE, {"now": now, "channel": channel, "limit": limit})
            else:
                rows = await conn.execute(select(_T.c.id, _T.c.status).where(
                    _T.c.status.in_(DUE), _T.c.not_before <= now).order_by(_T.c.not_before, _T.c.id).limit(limit))
            return [(r.id, r.status) for r in rows.all()]

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

    async def claim(self, delivery_id: str, seen_status: str) -> Claimed | None:
        """Move one row to `sending` if nobody else did; the row when this worker owns the send."""
        claimed = await self.claim_many([(delivery_id, seen_status)])
        return claimed[0] if claimed else None

    async def claim_many(self, due: list[tuple[str, str]]) -> list[Claimed]:
        """Move rows to `sending` that are still in the status seen (and due), in one transaction.

        The rows this worker owns the sends of, in the order of `due`.
        """
        if not due:
            return []
        now = self.clock()
        by_status: dict[str, list[str]] = defaultdict(list)
        for delivery_id, seen in due:
            by_status[seen].append(delivery_id)
        async with self.uow() as uow:
            conn = await core(uow.session)
            rows = {}
            for seen, ids in by_status.items():
                result = await conn.execute(_CLAIM, {"ids": ids, "seen": seen, "now": now, "claimed_at": now})
                rows.update((r.id, r) for r in result.all())
            await uow.commit()
        return [rows[i] for i, _ in due if i in rows]

    async def deliver(self, d: Claimed, contact: Contact) -> Outcome:
        """Send one claimed delivery through its channel; what to record (see `record`)."""
        try:
            destination, ref = await self._send(d, contact)
        except TemporarySendError as exc:
            self.breakers[d.channel].failed()
            return self._finish(d, exc)
        except SendError as exc:
            return self._finish(d, exc)
        except NotAMobileNumber as exc:
            return self._finish(d, PermanentSendError(exc.code))
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not lose the message: retry
            log.exception("delivery failed unexpectedly", extra={"delivery_id": d.id})
            return self._finish(d, TemporarySendError(f"unexpected {type(exc).__name__}"))
        self.breakers[d.channel].succeeded()
        return d, self._values(status=DELIVERED, provider_ref=ref[:120], destination=destination, reason="")

    async def _send(self, d: Claimed, contact: Contact) -> tuple[str, str]:
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

    def _finish(self, d: Claimed, exc: SendError) -> Outcome:
        """A failure: retry later, or give up (permanent emits notify.v1.delivery_failed)."""
        if isinstance(exc, PermanentSendError):
            return d, self._values(status=PERMANENT, reason=exc.reason)
        if d.attempts >= self.policy.max_attempts:
            return d, self._values(status=TECHNICAL, reason=exc.reason)
        wait = backoff(d.attempts, base=self.policy.base_seconds, cap=self.policy.cap_seconds)
        return d, self._values(status=TEMPORARY, reason=exc.reason, not_before=self.clock() + wait)

    def _values(self, **values: object) -> dict[str, object]:
        """The columns an outcome sets, stamped with the time it happened."""
        return {"updated_at": self.clock(), **values}

    async def record(self, outcomes: list[Outcome]) -> None:
        """Leave `sending` (only from `sending`) in one transaction, emitting delivery_failed with a
        permanent failure."""
        if not outcomes:
            return
        batches: dict[tuple[str, ...], list[dict]] = defaultdict(list)   # one executemany per set of columns
        async with self.uow() as uow:
            conn = await core(uow.session)
            for d, values in outcomes:
                params = {"delivery_id": d.id, **values}
                if values["status"] != PERMANENT:
                    batches[tuple(params)].append(params)
                elif (await conn.execute(_LEAVE_SENDING, params)).rowcount == 1:
                    uow.emit(events_pb2.DeliveryFailed(
                        notification_id=d.notification_id, channel=d.channel, reason=str(values["reason"]),
                        delivery_id=d.id, user_id=d.user_id, message_type=d.message_type))
            for rows in batches.values():
                await conn.execute(_LEAVE_SENDING, rows)
            await uow.commit()

    async def reap_stuck(self) -> int:
        """Rows in `sending` for longer than the timeout (a worker died mid-send) -> technical-failure."""
        now: datetime = self.clock()
        async with self.uow() as uow:
            result = await (await core(uow.session)).execute(
                _REAP, {"stuck_before": now - self.policy.sending_timeout, "now": now})
            await uow.commit()
            return result.rowcount or 0

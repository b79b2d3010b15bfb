"""Webhooks: subscriptions, one delivery row per (subscription, event), a signed-POST worker with
bounded exponential back-off, a per-attempt log and manual redelivery."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import httpx
from google.protobuf import json_format
from sqlalchemy import select, update

from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.routing.v1 import events_pb2 as routing_events
from services.notify.adapters.orm import WebhookAttempt, WebhookDelivery, WebhookSubscription
from services.notify.domain import webhooks as model
from services.notify.domain.errors import WebhookNotFound
from services.notify.domain.webhooks import DELIVERED, DELIVERING, FAILED, PENDING, WebhookPolicy
from servicekit.cache import TtlCache
from services.notify.service_layer.notifying import Clock, utcnow
from services.notify.service_layer.unit_of_work import core
from servicekit.auth import Principal
from servicekit.events import new_id

log = logging.getLogger(__name__)
MESSAGES = {
    "reports.v1.report_submitted": reports_events.ReportSubmitted,
    "reports.v1.report_status_changed": reports_events.ReportStatusChanged,
    "reports.v1.report_commented": reports_events.ReportCommented,
    "reports.v1.report_merged": reports_events.ReportMerged,
    "routing.v1.report_assigned": routing_events.ReportAssigned,
    "routing.v1.report_transferred": routing_events.ReportTransferred,
    "routing.v1.sla_warning": routing_events.SlaWarning,
    "routing.v1.report_escalated": routing_events.ReportEscalated,
}
assert set(MESSAGES) == set(model.EVENT_TYPES)
CACHE_SECONDS = 5.0
_targets = TtlCache(CACHE_SECONDS)
_ADD_DELIVERIES = WebhookDelivery.__table__.insert()


async def subscribe(uow, caller: Principal, *, url: str, event_types: list[str], allow_private: bool,  # noqa: ANN001
                    clock: Clock = utcnow) -> WebhookSubscription:
    """A new subscription with a fresh secret; non-operators only get their agency's events."""
    model.check_subscription(url, event_types, allow_private=allow_private)
    row = WebhookSubscription(id=new_id(), owner_id=caller.user_id, url=url,
                              secret=f"whsec_{secrets.token_urlsafe(32)}", event_types=",".join(sorted(set(event_types))),
                              agency_code="" if caller.role == "operator" else caller.agency_code, active=True,
                              created_at=clock())
    uow.session.add(row)
    await uow.commit()
    forget_cached()
    return row


async def owned(session, caller: Principal, webhook_id: str) -> WebhookSubscription:  # noqa: ANN001
    """The caller's subscription or WebhookNotFound."""
    row = await session.get(WebhookSubscription, webhook_id)
    if row is None or row.owner_id != caller.user_id or not row.active:
        raise WebhookNotFound("no such webhook")
    return row


@dataclass(frozen=True)
class Target:
    """What enqueue needs of an active subscription (a snapshot, safe to cache)."""

    id: str
    event_types: frozenset[str]
    agency_code: str


async def active_targets(session) -> tuple[Target, ...]:  # noqa: ANN001
    """Every active subscription, cached for CACHE_SECONDS (see servicekit.cache)."""
    async def load() -> tuple[Target, ...]:
        rows = (await session.execute(select(
            WebhookSubscription.id, WebhookSubscription.event_types, WebhookSubscription.agency_code)
            .where(WebhookSubscription.active.is_(True)).order_by(WebhookSubscription.id))).all()
        return tuple(Target(r.id, frozenset(r.event_types.split(",")), r.agency_code) for r in rows)
    return await _targets.get(session, "active", load)


def forget_cached() -> None:
    """Drop this process's cached subscriptions (after one is created or deleted)."""
    _targets.clear()


async def enqueue(event, uow, clock: Clock = utcnow) -> None:  # noqa: ANN001
    """Consumer: one delivery per active subscription wanting this event (and its agency).

    Subscriptions come from a short-lived cache: a subscription created or deleted on another
    replica is seen here within CACHE_SECONDS (at once in this process).
    """
    await enqueue_batch([event], uow, clock)


async def enqueue_batch(events: list, uow, clock: Clock = utcnow) -> None:  # noqa: ANN001
    """`enqueue` for a consumer's batch: every event's deliveries in one INSERT."""
    targets = await active_targets(uow.session)
    if not targets:
        return
    now = clock()
    rows = []
    for event in events:
        cls = MESSAGES.get(event.subject)
        wanted = [t for t in targets if event.subject in t.event_types] if cls else []
        if not wanted:
            continue
        data = json_format.MessageToDict(event.parse(cls), preserving_proto_field_name=True)
        agencies = {v for k, v in data.items() if k in ("agency_code", "to_agency_code", "from_agency_code",
                                                          "escalated_to_agency_code")}
        body = json.dumps({"id": event.id, "type": event.subject, "data": data}, ensure_ascii=False, sort_keys=True)
        rows += [dict(id=new_id(), subscription_id=t.id, event_id=event.id, event_type=event.subject, payload=body,
                      status=PENDING, attempts=0, next_attempt_at=now, window_start=now, last_status_code=0,
                      last_error="", created_at=now, updated_at=now)
                 for t in wanted if not t.agency_code or t.agency_code in agencies]
    if rows:
        await (await core(uow.session)).execute(_ADD_DELIVERIES, rows)


async def redeliver(uow, caller: Principal, delivery_id: str, clock: Clock = utcnow) -> WebhookDelivery:  # noqa: ANN001
    """Send a delivered or failed event again, with a fresh retry window."""
    row = await uow.session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise WebhookNotFound("no such delivery")
    await owned(uow.session, caller, row.subscription_id)
    now = clock()
    await uow.session.execute(update(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.status.in_((DELIVERED, FAILED)))
        .values(status=PENDING, next_attempt_at=now, window_start=now, attempts=0, updated_at=now))
    await uow.commit()
    await uow.session.refresh(row)
    return row


class WebhookWorker:
    """POSTs due deliveries, signed; safe with several workers (conditional claim)."""

    def __init__(self, uow_factory, *, client: httpx.AsyncClient | None = None, clock: Clock = utcnow,  # noqa: ANN001
                 policy: WebhookPolicy = WebhookPolicy(), batch: int = 50, idle_poll: float = 1.0):
        self.uow, self.clock, self.policy, self.batch, self.idle_poll = uow_factory, clock, policy, batch, idle_poll
        self.client = client or httpx.AsyncClient(timeout=policy.timeout_seconds, trust_env=False,
                                                  follow_redirects=False)

    async def run(self) -> None:
        """Loop forever."""
        while True:
            try:
                sent = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep going; state is in the database
                log.exception("webhook worker pass failed")
                sent = 0
            if sent == 0:
                await asyncio.sleep(self.idle_poll)

    async def run_once(self) -> int:
        """Claim and send what is due; returns how many were attempted."""
        now = self.clock()
        async with self.uow() as uow:
            due = (await uow.session.execute(
                select(WebhookDelivery.id, WebhookSubscription.url, WebhookSubscription.secret)
                .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
                .where(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(self.batch))).all()
        count = 0
        for delivery_id, url, secret in due:
            row = await self._claim(delivery_id)
            if row is not None:
                await self._attempt(row, url, secret)
                count += 1
        return count

    async def _claim(self, delivery_id: str) -> WebhookDelivery | None:
        now = self.clock()
        async with self.uow() as uow:
            result = await uow.session.execute(update(WebhookDelivery).where(
                WebhookDelivery.id == delivery_id, WebhookDelivery.status == PENDING,
                WebhookDelivery.next_attempt_at <= now)
                .values(status=DELIVERING, attempts=WebhookDelivery.attempts + 1, updated_at=now))
            if result.rowcount != 1:
                return None
            await uow.commit()
            return await uow.session.get(WebhookDelivery, delivery_id)

    async def _attempt(self, row: WebhookDelivery, url: str, secret: str) -> None:
        """One signed POST and its outcome."""
        body = row.payload.encode()
        timestamp = int(self.clock().timestamp())
        headers = {"Content-Type": "application/json", model.ID_HEADER: row.id,
                   model.TIMESTAMP_HEADER: str(timestamp), model.SIGNATURE_HEADER: model.sign(secret, timestamp, body)}
        code, error = None, ""
        try:
            code = (await self.client.post(url, content=body, headers=headers)).status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}"
        await self._record(row, code, error)

    async def _record(self, row: WebhookDelivery, code: int | None, error: str) -> None:
        now = self.clock()
        if code is not None and 200 <= code < 300:
            status, next_at = DELIVERED, now
        elif self.policy.retryable(code):
            retry = self.policy.next_attempt(attempts=row.attempts, window_start=_aware(row.window_start, now), now=now)
            status, next_at = (PENDING, retry) if retry else (FAILED, now)
        else:
            status, next_at = FAILED, now
        async with self.uow() as uow:
            uow.session.add(WebhookAttempt(delivery_id=row.id, attempt=row.attempts, at=now, status_code=code or 0,
                                           error=error or ("" if code and code < 300 else f"http {code}")))
            await uow.session.execute(update(WebhookDelivery).where(
                WebhookDelivery.id == row.id, WebhookDelivery.status == DELIVERING)
                .values(status=status, next_attempt_at=next_at, last_status_code=code or 0,
                        last_error=error[:300], updated_at=now))
            await uow.commit()

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()


def _aware(value: datetime, like: datetime) -> datetime:
    """SQLite returns naive UTC datetimes; make them comparable with the clock's."""
    return value if value.tzinfo else value.replace(tzinfo=like.tzinfo)

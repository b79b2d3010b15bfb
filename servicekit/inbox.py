"""Idempotent event consumers: durable pull consumer + inbox table written with the effect."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from opentelemetry import trace
from sqlalchemy import Column, DateTime, MetaData, PrimaryKeyConstraint, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from servicekit.events import HDR_ID, HDR_TYPE, ReceivedEvent
from servicekit.telemetry import extract_context

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Handler = Callable[[ReceivedEvent, object], Awaitable[None]]
# Applies several events in one unit of work with set-based statements (a few round trips per batch
# instead of a few per event): it must have exactly the effect of `Handler` applied to each in order.
BatchHandler = Callable[[list[ReceivedEvent], object], Awaitable[None]]
_consumer_name: contextvars.ContextVar[str] = contextvars.ContextVar("cds_consumer", default="")


@contextlib.contextmanager
def consuming(event: ReceivedEvent, *, batch: int = 1) -> Iterator[trace.Span]:
    """The span of handling one event, child of the span that emitted it: events emitted inside
    (`uow.emit`) carry it on. Batch handlers wrap each event's part of the work in it."""
    with tracer.start_as_current_span(
        f"consume {event.subject}", context=extract_context(event.headers), kind=trace.SpanKind.CONSUMER,
        attributes={"messaging.system": "nats", "messaging.consumer.group.name": _consumer_name.get(),
                    "messaging.batch.message_count": batch},
    ) as span:
        yield span


def inbox_table(metadata: MetaData) -> Table:
    """Declare the inbox table (consumer, event id) in a service's metadata."""
    return Table(
        "inbox", metadata,
        Column("consumer", String(100), nullable=False),
        Column("event_id", String(64), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("consumer", "event_id", name="pk_inbox"),
    )


@functools.cache
def _claim(inbox: Table, dialect: str):  # noqa: ANN202
    """INSERT of an inbox row that does nothing when the event id is already there (built once)."""
    insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(inbox)
    return insert.on_conflict_do_nothing(index_elements=[inbox.c.consumer, inbox.c.event_id])


def received(msg) -> ReceivedEvent:  # noqa: ANN001
    """Turn a NATS message into a ReceivedEvent."""
    headers = dict(msg.headers or {})
    delivery = msg.metadata.num_delivered if msg.reply else 1
    return ReceivedEvent(
        id=headers.get(HDR_ID, ""), subject=msg.subject, event_type=headers.get(HDR_TYPE, ""),
        payload=msg.data, headers=headers, delivery=delivery,
    )


def _pending(msg) -> int:  # noqa: ANN001
    """How many messages the consumer still has after `msg` (from its reply subject); 1 if unknown."""
    try:
        return msg.metadata.num_pending or 0
    except Exception:  # noqa: BLE001 - not a JetStream message: assume more may follow
        return 1


class Consumer:
    """Applies each event once: effect and inbox row commit together; ack follows the commit."""

    def __init__(self, js, *, service: str, purpose: str, stream: str, subjects: list[str],  # noqa: ANN001
                 handler: Handler, uow_factory: Callable[[], object], inbox: Table,
                 batch_handler: BatchHandler | None = None, max_deliver: int = 5,
                 backoff: tuple[float, ...] = (0.5, 2.0, 5.0, 15.0),
                 batch: int = 64, ack_wait: float = 30.0, top_up_wait: float = 0.005):
        self.js, self.stream, self.subjects = js, stream, subjects
        self.durable = f"{service}-{purpose}"
        self.dlq_subject = f"{service}.dlq.{purpose}"
        self.handler, self.uow_factory, self.inbox = handler, uow_factory, inbox
        self.batch_handler = batch_handler
        self.max_deliver, self.backoff, self.batch, self.ack_wait = max_deliver, backoff, batch, ack_wait
        self.top_up_wait = top_up_wait
        self.applied = 0
        self._backlog = False
        self._stopping = False

    def config(self) -> ConsumerConfig:
        """The durable consumer's configuration."""
        return ConsumerConfig(
            durable_name=self.durable, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
            filter_subjects=self.subjects, max_deliver=self.max_deliver, ack_wait=self.ack_wait,
            max_ack_pending=1000,
        )

    async def run(self) -> None:
        """Fetch and process batches until stopped; survives NATS outages."""
        sub = None
        while not self._stopping:
            try:
                if sub is None:
                    await self.js.add_consumer(self.stream, self.config())
                    sub = await self.js.pull_subscribe_bind(durable=self.durable, stream=self.stream)
                msgs = await self.next_messages(sub)
            except (NatsTimeout, asyncio.TimeoutError):
                continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - connection trouble: back off and rebind
                log.warning("consumer fetch failed", extra={"consumer": self.durable, "error": repr(exc)})
                sub = None
                await asyncio.sleep(0.5)
                continue
            if len(msgs) > 1 and await self.apply_batch(msgs):
                continue
            for msg in msgs:
                await self.process(msg)

    async def next_messages(self, sub) -> list:  # noqa: ANN001
        """The next messages: a lone event as soon as it arrives, a backlog in batches.

        nats-py's `fetch(n)` returns only when n messages arrived or its timeout passed, so under a
        trickle every event would wait up to that timeout. So we wait for one message; when the
        server says more are pending behind it (`num_pending`), we take up to `batch` of them,
        lingering at most `top_up_wait`, until it says none are left.
        """
        if self._backlog:
            try:
                msgs = await sub.fetch(self.batch, timeout=self.top_up_wait)
            except (NatsTimeout, asyncio.TimeoutError):
                msgs = []
            if msgs:
                self._backlog = _pending(msgs[-1]) > 0
                return msgs
            self._backlog = False
        msgs = await sub.fetch(1, timeout=1.0)
        self._backlog = _pending(msgs[-1]) > 0
        return msgs

    def stop(self) -> None:
        """Finish after the current batch."""
        self._stopping = True

    async def process(self, msg) -> None:  # noqa: ANN001
        """Apply one message; ack after commit, nak with back-off on failure, dead-letter at the end."""
        event = received(msg)
        _consumer_name.set(self.durable)
        with consuming(event):
            try:
                await self.apply(event)
            except Exception as exc:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                await self._failed(msg, event, exc)
                return
            await self.ack(msg)

    async def ack(self, msg) -> None:  # noqa: ANN001
        """Acknowledge after commit (a lost ack only means a redelivery the inbox turns into a no-op)."""
        await msg.ack()

    async def apply(self, event: ReceivedEvent) -> bool:
        """Run the handler and record the event id in one transaction; False if already applied."""
        if not event.id:
            raise ValueError("event without Nats-Msg-Id")
        async with self.uow_factory() as uow:
            # Claim the event id first (one statement: a row already there means applied; on
            # PostgreSQL a replica inserting the same id makes this wait for its commit). Any error
            # after it, a handler's own unique violation included, rolls back and goes to the
            # caller's retry / dead-letter path: acking it would drop the event's effects.
            connection = await uow.session.connection()
            claimed = await connection.execute(_claim(self.inbox, connection.dialect.name), {
                "consumer": self.durable, "event_id": event.id, "processed_at": datetime.now(UTC)})
            if claimed.rowcount != 1:
                log.debug("duplicate event skipped", extra={"consumer": self.durable, "event_id": event.id})
                return False
            await self.handler(event, uow)
            await uow.commit()
        self.applied += 1
        return True

    async def apply_batch(self, msgs: list) -> bool:
        """Group commit: apply a fetched batch in one transaction, then ack every message.

        One write transaction instead of one per event, and with a `batch_handler` a few statements
        for the whole batch. Any failure (a handler error, a concurrent replica, a lost connection)
        rolls the whole batch back and returns False; the caller then applies the messages one by
        one with `handler`, where retries and dead-lettering happen.
        """
        events = [received(m) for m in msgs]
        if not all(e.id for e in events):
            return False
        _consumer_name.set(self.durable)
        try:
            async with self.uow_factory() as uow:
                seen = set((await uow.session.scalars(select(self.inbox.c.event_id).where(
                    self.inbox.c.consumer == self.durable,
                    self.inbox.c.event_id.in_({e.id for e in events})))).all())
                fresh = []
                for event in events:
                    if event.id not in seen:
                        seen.add(event.id)
                        fresh.append(event)
                if self.batch_handler is not None and fresh:
                    await self._batch(fresh, uow)
                else:
                    for event in fresh:
                        await asyncio.sleep(0)   # let requests run between events (SQLite runs inline)
                        with consuming(event, batch=len(events)):
                            await self.handler(event, uow)
                if fresh:
                    now = datetime.now(UTC)
                    await uow.session.execute(self.inbox.insert(), [
                        {"consumer": self.durable, "event_id": e.id, "processed_at": now} for e in fresh])
                await uow.commit()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - fall back to one by one, which retries and dead-letters
            log.info("batch rolled back, applying one by one",
                     extra={"consumer": self.durable, "size": len(events), "error": type(exc).__name__})
            return False
        self.applied += len(fresh)
        for msg in msgs:
            await self.ack(msg)
        return True

    async def _batch(self, events: list[ReceivedEvent], uow) -> None:  # noqa: ANN001
        """Run the batch handler in one span linked to every event's (each event's own span is the
        handler's, see `consuming`)."""
        links = []
        for event in events:
            parent = trace.get_current_span(extract_context(event.headers)).get_span_context()
            if parent.is_valid:
                links.append(trace.Link(parent))
        with tracer.start_as_current_span(
            f"consume batch {self.durable}", kind=trace.SpanKind.CONSUMER, links=links,
            attributes={"messaging.system": "nats", "messaging.consumer.group.name": self.durable,
                        "messaging.batch.message_count": len(events)},
        ):
            await self.batch_handler(events, uow)

    async def _failed(self, msg, event: ReceivedEvent, exc: Exception) -> None:  # noqa: ANN001
        """Retry later, or park the event on the dead-letter subject after the last try."""
        log.warning("event handling failed", extra={
            "consumer": self.durable, "event_id": event.id, "delivery": event.delivery,
            "error": f"{type(exc).__name__}: {exc}"[:500]})
        if event.delivery >= self.max_deliver:
            headers = {**event.headers, "Cds-Error": f"{type(exc).__name__}: {exc}"[:1000],
                       "Cds-Original-Subject": event.subject, "Cds-Consumer": self.durable}
            headers.pop("Nats-Msg-Id", None)
            try:
                await self.js.publish(self.dlq_subject, event.payload, headers=headers)
            except Exception:  # noqa: BLE001 - keep the event rather than lose it
                log.exception("dead-letter publish failed", extra={"consumer": self.durable})
                await msg.nak(delay=self.backoff[-1])
                return
            await msg.term()
            return
        delay = self.backoff[min(event.delivery - 1, len(self.backoff) - 1)]
        await msg.nak(delay=delay)

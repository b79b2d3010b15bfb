"""Transactional outbox: events are rows written in the state change's commit; a relay publishes them.

The relay claims unsent rows in id order, publishes each with `Nats-Msg-Id` = event id (JetStream
drops duplicates inside the stream's window), and marks rows sent only after the publish ack. On
PostgreSQL an advisory lock keeps one relay active per database so order holds with replicas.

On SQLite the running relay marks rows sent lazily: it remembers the highest sequence number
acknowledged and reads past it, and writes the marks when nothing was committed for `idle_poll`
(or `mark_every` wait). Marking takes the process's write turn, which under load queues behind every request
that writes; doing that after each batch held the next batch's publication back by the whole
queue. A crash before the marks only republishes rows JetStream and the consumers' inboxes
already drop as duplicates.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from datetime import UTC, datetime

from opentelemetry import trace
from sqlalchemy import (
    BigInteger, Column, DateTime, Index, Integer, LargeBinary, MetaData, String, Table, Text,
    select, text, update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from servicekit.db import READ_ONLY, writer
from servicekit.events import HDR_AT, HDR_ID, HDR_TYPE, Event
from servicekit.telemetry import extract_context, inject_headers

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


def outbox_table(metadata: MetaData) -> Table:
    """Declare the outbox table in a service's metadata."""
    return Table(
        "outbox", metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("event_type", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", Text, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("sent_at", DateTime(timezone=True), nullable=True),
        Index("ix_outbox_unsent", "seq", sqlite_where=text("sent_at IS NULL"),
              postgresql_where=text("sent_at IS NULL")),
    )


def outbox_rows(events: list[Event]) -> list[dict]:
    """Rows for `events`, with the trace context each was emitted in (else the current one) so
    consumers continue the trace."""
    current = None
    rows = []
    for e in events:
        if e.trace is None and current is None:
            current = json.dumps(inject_headers())
        rows.append({"event_id": e.id, "subject": e.subject, "event_type": e.event_type, "payload": e.payload,
                     "occurred_at": e.occurred_at, "headers": current if e.trace is None else json.dumps(e.trace)})
    return rows


async def write_outbox(session: AsyncSession, table: Table, events: list[Event]) -> None:
    """Insert events into the outbox inside the caller's transaction."""
    if events:
        await session.execute(table.insert(), outbox_rows(events))


class OutboxRelay:
    """Publishes outbox rows to JetStream in order; keeps retrying while NATS is away."""

    def __init__(self, engine: AsyncEngine, table: Table, js, *, batch: int = 200,
                 idle_poll: float = 1.0, lock_name: str = "outbox", ack_timeout: float = 5.0,
                 mark_every: int = 2000):
        self.engine, self.table, self.js = engine, table, js
        self.batch, self.idle_poll, self.ack_timeout = batch, idle_poll, ack_timeout
        self.mark_every = mark_every
        self.lock_key = zlib.crc32(lock_name.encode())
        self.wakeup = asyncio.Event()
        self.published = 0
        self._stopping = False
        self._acked_upto = 0           # SQLite: highest seq published and acknowledged
        self._unmarked: list[int] = []  # SQLite: acknowledged rows not yet marked sent

    def notify(self) -> None:
        """Tell the relay new rows were committed (same-process fast path)."""
        self.wakeup.set()

    async def run(self) -> None:
        """Loop until stopped: publish what is pending, then wait for a wake-up or the poll tick."""
        backoff = 0.1
        while not self._stopping:
            # Clear before reading: a commit that lands while we read sets it again, so it is
            # never lost between the read and the wait below.
            self.wakeup.clear()
            try:
                sent = await self.publish_pending(defer_marks=True)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS down, DB busy: keep the rows and try again later
                log.warning("outbox relay retrying", extra={"error": type(exc).__name__, "retry_in": backoff})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if sent < self.batch:   # drained (a commit meanwhile has set the wake-up again)
                try:
                    await asyncio.wait_for(self.wakeup.wait(), self.idle_poll)
                except TimeoutError:
                    await self._quiet()
        await self._quiet()

    async def _quiet(self) -> None:
        """Nothing committed for a while, or stopping: write the deferred marks (SQLite)."""
        try:
            await self._mark_pending()
        except Exception as exc:  # noqa: BLE001 - kept for the next try (a crash: republished, dropped as duplicates)
            log.warning("outbox relay could not mark rows sent", extra={"error": type(exc).__name__})

    def stop(self) -> None:
        """Ask the loop to finish after the current batch."""
        self._stopping = True
        self.wakeup.set()

    async def publish_pending(self, *, defer_marks: bool = False) -> int:
        """Publish one batch of unsent rows in order; returns how many were acknowledged.

        Rows are marked sent before returning, except on SQLite with `defer_marks` (the running
        relay), where marks wait until the relay is idle or `mark_every` rows wait.
        """
        dialect = self.engine.dialect.name
        if dialect != "postgresql":
            # SQLite: one writer per file anyway; read without taking the write turn, publish with
            # nothing pooled or locked held, then mark in a short write transaction.
            query = self._claim_query(dialect).where(self.table.c.seq > self._acked_upto)
            async with self.engine.connect() as conn:
                conn = await conn.execution_options(**{READ_ONLY: True})
                async with conn.begin():
                    rows = (await conn.execute(query)).all()
            sent = await self._publish_rows(None, rows, mark=False)
            if not defer_marks or len(self._unmarked) >= self.mark_every:
                await self._mark_pending()
            return sent
        async with self.engine.begin() as conn:
            got = await conn.scalar(select(text(f"pg_try_advisory_xact_lock({self.lock_key})")))
            if not got:
                return 0
            rows = (await conn.execute(self._claim_query(dialect))).all()
            return await self._publish_rows(conn, rows)

    async def _publish_rows(self, conn, rows, *, mark: bool = True) -> int:  # noqa: ANN001
        """Publish a batch without waiting for each ack in turn (JetStream keeps the order of one
        connection's publishes), then mark the acknowledged prefix sent even if a later one failed
        (in the caller's transaction `conn`), or with `mark=False` (SQLite) remember it for
        `_mark_pending`."""
        done: list[int] = []
        try:
            acks = [await self._publish(row) for row in rows]
            if acks:
                results = await asyncio.wait_for(asyncio.gather(*acks, return_exceptions=True), self.ack_timeout)
                for row, result in zip(rows, results, strict=True):
                    if isinstance(result, BaseException):
                        raise result
                    done.append(row.seq)
        finally:
            if done and not mark:
                self._unmarked.extend(done)
                self._acked_upto = max(self._acked_upto, done[-1])
            elif done:
                await conn.execute(self._mark_statement(done))
        self.published += len(done)
        return len(done)

    async def _mark_pending(self) -> None:
        """Mark the remembered acknowledged rows sent, in one short write transaction."""
        if not self._unmarked:
            return
        done = list(self._unmarked)
        async with writer(self.engine), self.engine.begin() as own:
            await own.execute(self._mark_statement(done))
        del self._unmarked[:len(done)]
        if not self._unmarked:
            # everything read so far is marked: `sent_at IS NULL` alone is exact again (and a row
            # number SQLite might reuse below the old high-water mark cannot be skipped)
            self._acked_upto = 0

    def _mark_statement(self, seqs: list[int]):  # noqa: ANN202
        return update(self.table).where(self.table.c.seq.in_(seqs)).values(sent_at=datetime.now(UTC))

    def _claim_query(self, dialect: str):
        """Oldest unsent rows first (row locks on PostgreSQL)."""
        q = select(self.table).where(self.table.c.sent_at.is_(None)).order_by(self.table.c.seq).limit(self.batch)
        return q.with_for_update(skip_locked=True) if dialect == "postgresql" else q

    async def _publish(self, row) -> asyncio.Future:  # noqa: ANN001
        """Send one row; returns the future of its JetStream ack."""
        trace_headers = json.loads(row.headers or "{}")
        with tracer.start_as_current_span(
            f"publish {row.subject}", context=extract_context(trace_headers),
            kind=trace.SpanKind.PRODUCER, attributes={"messaging.system": "nats",
                                                      "messaging.destination.name": row.subject},
        ):
            headers = {
                HDR_ID: row.event_id, HDR_TYPE: row.event_type,
                HDR_AT: row.occurred_at.isoformat(), **inject_headers(),
            }
            return await self.js.publish_async(row.subject, row.payload, headers=headers, wait_stall=self.ack_timeout)

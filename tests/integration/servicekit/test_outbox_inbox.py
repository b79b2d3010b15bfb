"""Outbox relay and inbox consumer against a real nats-server and a real database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from nats.js.api import DeliverPolicy
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from congdanso.reports.v1 import events_pb2
from servicekit import natsio
from servicekit.db import make_engine, session_factory
from servicekit.inbox import Consumer, inbox_table, received
from servicekit.outbox import OutboxRelay, outbox_table
from servicekit.uow import UnitOfWork

metadata = MetaData()
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
effects = Table("effects", metadata, Column("id", Integer, primary_key=True, autoincrement=True),
                Column("event_id", String(64), nullable=False), Column("worker", String(20), nullable=False))


class ReportsUow(UnitOfWork):
    service = "reports"


class Env:
    """A database with the test tables, a NATS connection and helpers."""

    async def open(self, url: str, nats_url: str) -> Env:
        self.engine = make_engine(url)
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        self.sessions = session_factory(self.engine)
        self.nc = await natsio.connect(nats_url, name="test")
        self.js = self.nc.jetstream(timeout=5)
        await natsio.ensure_streams(self.js, ["REPORTS"])
        return self

    def uow(self) -> ReportsUow:
        return ReportsUow(self.sessions, outbox)

    async def write_events(self, n: int, start: int = 0, per_tx: int = 10) -> list[str]:
        """Commit `n` events (report_followed with user_id = sequence number) in several transactions."""
        ids: list[str] = []
        for first in range(start, start + n, per_tx):
            async with self.uow() as uow:
                for i in range(first, min(first + per_tx, start + n)):
                    ids.append(uow.emit(events_pb2.ReportFollowed(report_id="r", user_id=str(i))).id)
                await uow.commit()
        return ids

    async def stream_ids(self) -> list[str]:
        """Event ids in the REPORTS stream, in stream order."""
        sub = await self.js.subscribe("reports.v1.>", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
        info = await self.js.stream_info("REPORTS")
        out = []
        for _ in range(info.state.messages):
            msg = await sub.next_msg(timeout=5)
            out.append(msg.headers["Nats-Msg-Id"])
        await sub.unsubscribe()
        return out

    async def unsent(self) -> int:
        async with self.engine.connect() as conn:
            return await conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None)))

    async def close(self) -> None:
        await self.nc.close()
        await self.engine.dispose()


@pytest.fixture
async def env(database_url, nats_server):
    e = await Env().open(database_url("svc"), nats_server.url)
    yield e
    await e.close()


async def wait_for(predicate, timeout: float = 20.0) -> None:  # noqa: ANN001
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_relay_publishes_in_commit_order_and_marks_rows_sent(env):
    ids = await env.write_events(120)
    relay = OutboxRelay(env.engine, outbox, env.js, batch=25)
    task = asyncio.create_task(relay.run())
    await wait_for(lambda: _zero(env))
    relay.stop()
    await task
    assert await env.stream_ids() == ids


async def _zero(env) -> bool:  # noqa: ANN001
    return await env.unsent() == 0


async def test_relay_survives_nats_restart_without_losing_or_duplicating(env, nats_server):
    relay = OutboxRelay(env.engine, outbox, env.js, batch=10)
    task = asyncio.create_task(relay.run())
    before = await env.write_events(30)
    await wait_for(lambda: _zero(env))
    nats_server.stop()
    during = await env.write_events(30, start=30)  # accepted while NATS is down: kept in the outbox
    await asyncio.sleep(0.5)
    assert await env.unsent() > 0
    nats_server.start()
    await wait_for(lambda: _zero(env), timeout=30)
    relay.stop()
    await task
    assert await env.stream_ids() == before + during


def _consumer(env, handler, **kw) -> Consumer:  # noqa: ANN001
    return Consumer(env.js, service="reports", purpose="effects", stream="REPORTS",
                    subjects=["reports.v1.report_followed"], handler=handler, uow_factory=env.uow,
                    inbox=inbox, **kw)


async def dead_lettered(env, handler, *, published_first: bool = False, **kw) -> tuple:  # noqa: ANN001
    """Relay the outbox and run a consumer of `handler` until the first dead-lettered message; stop
    both. Returns (that message, the consumer). `published_first`: the consumer starts once every
    event is in the stream."""
    dlq = await env.nc.subscribe("reports.dlq.effects")
    relay = OutboxRelay(env.engine, outbox, env.js)
    relay_task = asyncio.create_task(relay.run())
    if published_first:
        await wait_for(lambda: _zero(env))
    consumer = _consumer(env, handler, **kw)
    task = asyncio.create_task(consumer.run())
    try:
        return await dlq.next_msg(timeout=20), consumer
    finally:
        consumer.stop()
        relay.stop()
        await asyncio.gather(task, relay_task)


def _effect(worker: str):  # noqa: ANN202
    async def handler(event, uow) -> None:  # noqa: ANN001
        await uow.session.execute(effects.insert().values(event_id=event.id, worker=worker))
    return handler


async def _effect_counts(env) -> dict[str, int]:  # noqa: ANN001
    async with env.engine.connect() as conn:
        rows = await conn.execute(select(effects.c.event_id, func.count()).group_by(effects.c.event_id))
        return dict(rows.all())


async def test_redelivered_event_is_applied_once(env):
    """The effect commits but the ack is lost (as in a crash): JetStream redelivers; nothing changes."""
    ids = await env.write_events(5)
    relay = OutboxRelay(env.engine, outbox, env.js)
    relay_task = asyncio.create_task(relay.run())
    deliveries: dict[str, int] = {}

    class LosesFirstAck(Consumer):
        async def ack(self, msg) -> None:  # noqa: ANN001
            event = received(msg)
            deliveries[event.id] = deliveries.get(event.id, 0) + 1
            if deliveries[event.id] == 1:
                return  # committed, never acked: JetStream redelivers after ack_wait
            await super().ack(msg)

    consumer = LosesFirstAck(env.js, service="reports", purpose="effects", stream="REPORTS",
                             subjects=["reports.v1.report_followed"], handler=_effect("a"),
                             uow_factory=env.uow, inbox=inbox, ack_wait=1.0)
    task = asyncio.create_task(consumer.run())

    async def redelivered_all() -> bool:
        return len(deliveries) == 5 and min(deliveries.values()) >= 2

    await wait_for(redelivered_all, timeout=30)
    await asyncio.sleep(0.2)
    consumer.stop()
    relay.stop()
    await asyncio.gather(task, relay_task)
    info = await env.js.consumer_info("REPORTS", "reports-effects")
    assert info.num_ack_pending == 0
    assert await _effect_counts(env) == {i: 1 for i in ids}
    assert consumer.applied == 5  # the five first deliveries; the redeliveries were no-ops


async def test_two_replicas_split_the_work_and_apply_each_event_once(env):
    ids = await env.write_events(200, per_tx=50)
    relay = OutboxRelay(env.engine, outbox, env.js)
    relay_task = asyncio.create_task(relay.run())
    a, b = _consumer(env, _effect("a"), batch=5), _consumer(env, _effect("b"), batch=5)
    tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]

    async def done() -> bool:
        return sum((await _effect_counts(env)).values()) >= 200

    await wait_for(done, timeout=30)
    await asyncio.sleep(0.3)
    for c in (a, b):
        c.stop()
    relay.stop()
    await asyncio.gather(*tasks, relay_task)
    assert await _effect_counts(env) == {i: 1 for i in ids}
    assert a.applied + b.applied == 200


async def test_failing_event_goes_to_dead_letter_after_bounded_retries(env):
    await env.write_events(1)
    calls = []

    async def broken(event, uow) -> None:  # noqa: ANN001
        calls.append(datetime.now(UTC))
        raise RuntimeError("category table missing")

    msg, _ = await dead_lettered(env, broken, max_deliver=3, backoff=(0.1, 0.2))
    assert len(calls) == 3
    assert msg.headers["Cds-Error"].startswith("RuntimeError: category table missing")
    assert msg.headers["Cds-Original-Subject"] == "reports.v1.report_followed"
    assert await _effect_counts(env) == {}


async def test_a_failing_event_in_a_batch_does_not_hold_back_the_others(env):
    """Group commit rolls the batch back; one by one, the good events apply once, the bad one is parked."""
    ids = await env.write_events(6, per_tx=6)
    bad = ids[2]
    calls: dict[str, int] = {}

    async def picky(event, uow) -> None:  # noqa: ANN001
        calls[event.id] = calls.get(event.id, 0) + 1
        if event.id == bad:
            raise RuntimeError("cannot apply this one")
        await uow.session.execute(effects.insert().values(event_id=event.id, worker="a"))

    # all six in the stream before the consumer fetches them at once
    msg, consumer = await dead_lettered(env, picky, published_first=True, max_deliver=2, backoff=(0.1,))
    assert msg.headers["Cds-Error"] == "RuntimeError: cannot apply this one"
    assert await _effect_counts(env) == {i: 1 for i in ids if i != bad}
    assert consumer.applied == 5
    assert calls[bad] == 3  # once in the rolled-back batch, then its two deliveries one by one


async def test_consumer_takes_a_lone_event_at_once_and_a_backlog_in_batches(env):
    """A trickle must not wait for a batch to fill (nats-py's fetch(n) waits for n or its timeout)."""
    consumer = _consumer(env, _effect("a"), batch=4)
    await env.js.add_consumer("REPORTS", consumer.config())
    sub = await env.js.pull_subscribe_bind(durable=consumer.durable, stream="REPORTS")
    relay = OutboxRelay(env.engine, outbox, env.js)

    await env.write_events(1)
    await relay.publish_pending()
    loop = asyncio.get_running_loop()
    started = loop.time()
    lone = await consumer.next_messages(sub)
    waited = loop.time() - started
    assert len(lone) == 1
    assert waited < 0.5, f"a lone event waited {waited:.3f} s for company"  # fetch's own timeout is 1 s
    await lone[0].ack()

    ids = await env.write_events(6, per_tx=6)
    await relay.publish_pending()
    batches = [await consumer.next_messages(sub) for _ in range(3)]  # one, then the rest in fours
    assert [len(b) for b in batches] == [1, 4, 1]
    assert [received(m).id for b in batches for m in b] == ids
    for b in batches:
        for m in b:
            await m.ack()
    with pytest.raises(asyncio.TimeoutError):  # nothing left: back to waiting for one
        await consumer.next_messages(sub)
    assert consumer._backlog is False


async def test_running_relay_marks_rows_sent_lazily_but_never_publishes_twice(env):
    """SQLite: marks wait until the relay is idle; PostgreSQL marks in the claiming transaction."""
    ids = await env.write_events(30, per_tx=10)
    relay = OutboxRelay(env.engine, outbox, env.js, batch=10, idle_poll=0.2)
    assert await relay.publish_pending(defer_marks=True) == 10
    assert await relay.publish_pending(defer_marks=True) == 10
    sqlite = env.engine.dialect.name == "sqlite"
    assert await env.unsent() == (30 if sqlite else 10)   # published, acknowledged, not yet marked
    assert await relay.publish_pending(defer_marks=True) == 10
    assert await relay.publish_pending(defer_marks=True) == 0  # nothing new, and nothing published twice
    assert await env.stream_ids() == ids
    task = asyncio.create_task(relay.run())                   # the running relay marks once it is idle
    await wait_for(lambda: _zero(env))
    more = await env.write_events(5)
    relay.notify()
    await wait_for(lambda: _zero(env))
    relay.stop()
    await task
    assert await env.stream_ids() == ids + more               # each event exactly once, in order
    assert await relay.publish_pending() == 0

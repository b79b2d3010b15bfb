"""Consumers' batch handlers, per-event trace context and the one-statement claim, against a real
nats-server and a real database (the environment of test_outbox_inbox)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import select

from congdanso.reports.v1 import events_pb2
from servicekit.inbox import Consumer, consuming, received
from servicekit.outbox import OutboxRelay
from tests.integration.servicekit.test_outbox_inbox import (_consumer, _effect, _effect_counts, dead_lettered,  # noqa: F401
                                                            effects, env, inbox, outbox, wait_for)


async def _traced_events(env, n: int) -> dict[str, str]:  # noqa: ANN001
    """Commit `n` report_followed events, each emitted in a span of its own trace: {event id: trace id}."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    tracer = trace.get_tracer("test")
    out = {}
    async with env.uow() as uow:
        for i in range(n):
            with tracer.start_as_current_span(f"producer {i}") as span:
                event = uow.emit(events_pb2.ReportFollowed(report_id="r", user_id=str(i)))
            out[event.id] = format(span.get_span_context().trace_id, "032x")
        await uow.commit()
    return out


async def test_batch_handler_takes_a_backlog_and_each_emitted_event_continues_its_cause_s_trace(env):
    """A batch handler gets the backlog in one call; what it emits inside `consuming(event)` carries that
    event's trace on (events emitted by a batch used to carry the commit's context, i.e. none)."""
    causes = await _traced_events(env, 6)
    batches: list[list[str]] = []

    async def one(event, uow) -> None:  # noqa: ANN001
        await uow.session.execute(effects.insert().values(event_id=event.id, worker="one"))
        uow.emit(events_pb2.ReportCommented(report_id="echo", comment_id=event.id))

    async def many(events, uow) -> None:  # noqa: ANN001
        batches.append([e.id for e in events])
        await uow.session.execute(effects.insert(), [{"event_id": e.id, "worker": "many"} for e in events])
        for event in events:
            with consuming(event, batch=len(events)):
                uow.emit(events_pb2.ReportCommented(report_id="echo", comment_id=event.id))

    relay = OutboxRelay(env.engine, outbox, env.js)
    assert await relay.publish_pending() == 6
    consumer = _consumer(env, one, batch_handler=many)
    task = asyncio.create_task(consumer.run())
    await wait_for(lambda: _applied(consumer, 6))
    consumer.stop()
    await task
    ids = list(causes)
    assert batches == [ids[1:]]   # the first alone (nothing pending behind it yet seen), then the rest at once
    assert await _effect_counts(env) == dict.fromkeys(ids, 1)
    async with env.engine.connect() as conn:
        echoes = (await conn.execute(select(outbox.c.payload, outbox.c.headers).where(
            outbox.c.event_type == "congdanso.reports.v1.ReportCommented"))).all()
    traced = {}
    for payload, headers in echoes:
        msg = events_pb2.ReportCommented.FromString(payload)
        traced[msg.comment_id] = json.loads(headers)["traceparent"].split("-")[1]
    assert traced == causes


async def test_a_failing_batch_handler_falls_back_to_the_one_by_one_handler(env):
    ids = await env.write_events(5, per_tx=5)
    tries: list[int] = []

    async def many(events, uow) -> None:  # noqa: ANN001
        tries.append(len(events))
        await uow.session.execute(effects.insert(), [{"event_id": e.id, "worker": "many"} for e in events])
        raise RuntimeError("set-based path cannot take this batch")

    relay = OutboxRelay(env.engine, outbox, env.js)
    assert await relay.publish_pending() == 5
    consumer = _consumer(env, _effect("one"), batch_handler=many)
    task = asyncio.create_task(consumer.run())
    await wait_for(lambda: _applied(consumer, 5))
    consumer.stop()
    await task
    assert tries == [4]                       # the batch's writes rolled back with it
    assert await _effect_counts(env) == dict.fromkeys(ids, 1)
    async with env.engine.connect() as conn:
        assert set((await conn.scalars(select(effects.c.worker))).all()) == {"one"}


async def _applied(consumer: Consumer, n: int) -> bool:
    return consumer.applied >= n


async def test_a_lone_event_is_claimed_with_one_statement_and_a_repeat_is_a_no_op(env):
    """The inbox row is inserted-if-absent first (no look-up before): one inbox statement per event."""
    from sqlalchemy import event as sa_event

    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    calls: list[str] = []

    async def handler(event, uow) -> None:  # noqa: ANN001
        calls.append(event.id)

    [event_id] = await env.write_events(1)
    event = received(SimpleNamespace(subject="reports.v1.report_followed", data=b"", reply="",
                                     headers={"Nats-Msg-Id": event_id}))
    consumer = _consumer(env, handler)
    sa_event.listen(env.engine.sync_engine, "before_cursor_execute", record)
    try:
        assert await consumer.apply(event) is True
        assert await consumer.apply(event) is False
    finally:
        sa_event.remove(env.engine.sync_engine, "before_cursor_execute", record)
    assert calls == [event_id]
    assert [s.split("(")[0].strip() for s in statements if "inbox" in s] == ["INSERT INTO inbox"] * 2


async def test_a_handler_s_own_unique_violation_is_retried_and_dead_lettered_not_acked(env):
    """Only the inbox claim says "already applied"; a handler's IntegrityError is a failure like any other
    (it used to be acked as a duplicate, which dropped the event's effects without a trace)."""
    ids = await env.write_events(1)
    async with env.uow() as uow:   # a row the handler's insert collides with
        await uow.session.execute(effects.insert().values(id=1, event_id="someone else's", worker="x"))
        await uow.commit()
    calls = []

    async def colliding(event, uow) -> None:  # noqa: ANN001
        calls.append(event.id)
        await uow.session.execute(effects.insert().values(id=1, event_id=event.id, worker="a"))

    msg, consumer = await dead_lettered(env, colliding, max_deliver=2, backoff=(0.1,))
    assert msg.headers["Cds-Error"].startswith("IntegrityError")
    assert calls == ids * 2 and consumer.applied == 0
    async with env.engine.connect() as conn:   # not recorded as applied: a fixed handler may replay it
        assert (await conn.scalars(select(inbox.c.event_id))).all() == []

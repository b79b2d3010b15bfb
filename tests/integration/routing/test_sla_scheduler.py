"""The durable SLA scheduler: warnings and escalations once each, across restarts and replicas, to NATS."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from nats.js.api import DeliverPolicy

from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from services.routing.adapters.orm import inbox, outbox
from services.routing.entrypoints.scheduler import SlaScheduler
from services.routing.service_layer import handlers
from servicekit import natsio
from servicekit.events import Event
from servicekit.inbox import Consumer
from servicekit.outbox import OutboxRelay
from tests.e2e.conftest import poll
from tests.integration.routing.conftest import T0, Env

H = timedelta(hours=1)


class Now:
    """A clock the test moves by hand."""

    def __init__(self):
        self.value = T0

    def __call__(self):  # noqa: ANN204
        return self.value


def scheduler(env: Env, now: Now, **kw) -> SlaScheduler:  # noqa: ANN003
    return SlaScheduler(env.uow, now=now, poll_interval=0.01, **kw)


def summary(events) -> list[tuple[str, str, str]]:  # noqa: ANN001
    return [(type(e).__name__, e.report_id, e.deadline) for e in events]


async def test_warning_at_80_percent_then_escalation_to_the_parent_once_each(env):
    await env.submit("r1")  # flooding: ack 0.5 h, resolve 6 h, thoatnuoc (parent: ioc)
    now = Now()
    s = scheduler(env, now)
    now.value = T0 + 0.39 * H
    assert await s.tick() == 0
    now.value = T0 + 0.4 * H
    assert await s.tick() == 1
    assert await s.tick() == 0
    now.value = T0 + 0.5 * H
    assert await s.tick() == 1
    [warning] = await env.events("SlaWarning")
    [escalated] = await env.events("ReportEscalated")
    assert (warning.agency_code, warning.deadline) == ("thoatnuoc", "ack")
    assert (escalated.agency_code, escalated.escalated_to_agency_code) == ("thoatnuoc", "ioc")
    assert escalated.deadline == "ack"
    assert escalated.escalated_to_agency_name.en == "HCMC Intelligent Operations Centre"


async def test_a_ward_committee_escalates_to_its_parent_agency(env):
    async with env.uow() as uow:
        from services.routing.adapters.orm import Agency
        (await uow.session.get(Agency, "ubnd_26743")).parent_code = "so_xd"
        await uow.commit()
    await env.submit("r1", "illegal_dumping", "waste")
    now = Now()
    now.value = T0 + 100 * H
    assert await scheduler(env, now).tick() == 2  # both deadlines long past: escalations only
    assert {e.escalated_to_agency_code for e in await env.events("ReportEscalated")} == {"so_xd"}
    assert await env.events("SlaWarning") == []


async def test_acknowledged_and_resolved_reports_are_not_escalated(env):
    await env.submit("r1")
    await env.submit("r2")
    await env.status("r1", "assigned", "in_progress", at=T0 + 0.1 * H)
    await env.status("r2", "assigned", "in_progress", at=T0 + 0.1 * H)
    await env.status("r2", "in_progress", "resolved", at=T0 + 0.2 * H)
    now = Now()
    now.value = T0 + 10 * H
    await scheduler(env, now).tick()
    assert summary(await env.events("ReportEscalated")) == [("ReportEscalated", "r1", "resolve")]


async def test_restart_misses_nothing_and_sends_nothing_twice(routing_url, nats_server):
    now = Now()
    first = Env(routing_url)
    for i in range(5):
        await first.submit(f"r{i}")
    now.value = T0 + 0.45 * H  # ack warnings due
    assert await scheduler(first, now).tick() == 5
    await first.engine.dispose()  # the process dies here

    second = Env(routing_url)  # ... and a new one starts on the same database
    assert await scheduler(second, now).tick() == 0
    now.value = T0 + 5 * H  # ack breaches and resolve warnings, while no scheduler ran
    assert await scheduler(second, now, batch=3).tick() == 10
    now.value = T0 + 6 * H
    assert await scheduler(second, now).tick() == 5
    assert await scheduler(second, now).tick() == 0

    nc = await natsio.connect(nats_server.url, name="test")
    js = nc.jetstream(timeout=5)
    await natsio.ensure_streams(js, ["ROUTING"])
    relay = OutboxRelay(second.engine, outbox, js)
    await relay.publish_pending()
    await relay.publish_pending()
    sub = await js.subscribe("routing.v1.>", ordered_consumer=True, deliver_policy=DeliverPolicy.ALL)
    seen = []
    while True:
        try:
            msg = await sub.next_msg(timeout=1)
        except Exception:  # noqa: BLE001 - no more messages
            break
        seen.append((msg.subject, msg.headers["Nats-Msg-Id"]))
    await nc.close()
    await second.engine.dispose()
    subjects = [s for s, _ in seen]
    assert subjects.count("routing.v1.report_assigned") == 5
    assert subjects.count("routing.v1.sla_warning") == 10   # ack x5 before, resolve x5 after the restart
    assert subjects.count("routing.v1.report_escalated") == 10
    assert len({i for _, i in seen}) == len(seen)


async def test_two_replicas_ticking_together_emit_each_event_once(env, routing_url):
    for i in range(20):
        await env.submit(f"r{i}")
    now = Now()
    now.value = T0 + 0.45 * H
    other = Env(routing_url)
    counts = await asyncio.gather(scheduler(env, now, batch=4).tick(), scheduler(other, now, batch=4).tick())
    await other.engine.dispose()
    assert sum(counts) == 20
    assert sorted(e.report_id for e in await env.events("SlaWarning")) == sorted(f"r{i}" for i in range(20))


async def test_the_background_loop_fires_as_the_clock_moves_and_stops(env):
    await env.submit("r1")
    now = Now()
    s = scheduler(env, now)
    task = asyncio.create_task(s.run())
    now.value = T0 + 0.5 * H
    await poll(lambda: _true(s.emitted == 1), timeout=10)
    s.stop()
    await asyncio.wait_for(task, 5)
    assert summary(await env.events("ReportEscalated")) == [("ReportEscalated", "r1", "ack")]


async def _true(value: bool) -> bool:
    return value


async def test_status_consumer_over_nats_stops_the_clock_once(env, nats_server):
    await env.submit("r1")
    nc = await natsio.connect(nats_server.url, name="test")
    js = nc.jetstream(timeout=5)
    await natsio.ensure_streams(js, ["REPORTS", "ROUTING"])
    change = reports_events.ReportStatusChanged(report_id="r1", from_status=reports_pb2.REPORT_STATUS_ASSIGNED,
                                                to_status=reports_pb2.REPORT_STATUS_IN_PROGRESS, actor_role="officer")
    event = Event.of("reports", change)
    for _ in range(2):  # published twice (a producer retry): the stream and the inbox each drop one
        await js.publish(event.subject, event.payload, headers={"Nats-Msg-Id": event.id,
                                                                "Cds-Event-Type": event.event_type})
    consumer = Consumer(js, service="routing", purpose="status", stream="REPORTS",
                        subjects=["reports.v1.report_status_changed"], handler=handlers.apply_status_change,
                        uow_factory=env.uow, inbox=inbox)
    task = asyncio.create_task(consumer.run())
    await poll(lambda: _true(consumer.applied == 1), timeout=15)
    consumer.stop()
    await asyncio.wait_for(task, 5)
    await nc.close()
    now = Now()
    now.value = T0 + 0.5 * H
    assert await scheduler(env, now).tick() == 0  # ack clock stopped: no escalation

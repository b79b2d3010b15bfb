"""The consumers' batch handlers: the same effect as the per-event handlers applied in order, in a
few statements per batch whatever its size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import pytest_asyncio
from google.protobuf.json_format import MessageToDict
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from services.routing.adapters.orm import Agency, Assignment, SlaClockRow, outbox
from services.routing.adapters.seed import load_reference_data
from services.routing.domain import errors
from services.routing.service_layer import handlers, reference
from servicekit import migrate
from servicekit.events import ReceivedEvent
from tests.conftest import _run
from tests.integration.routing.conftest import BEN_THANH, EVENT_TYPES, MIGRATIONS, T0, Env, received

MINUTE = timedelta(minutes=1)
FEEDBACK = reports_pb2.REPORT_KIND_FEEDBACK


class Steps:
    """A handler clock that moves a minute per call: shows which event's instant a row got."""

    def __init__(self, start: datetime):
        self.at = start

    def __call__(self) -> datetime:
        self.at += MINUTE
        return self.at


@pytest.fixture(autouse=True)
def pinned_caches(monkeypatch):
    """Reference data caches that never expire mid-test (a reload would add statements)."""
    monkeypatch.setattr(reference._tables, "clock", lambda: 1000.0)
    monkeypatch.setattr(reference._rules, "clock", lambda: 1000.0)


@pytest.fixture
def routing_urls(database_url):
    """Two routing databases at head with the reference data loaded."""
    urls = [database_url(name) for name in ("routing_one", "routing_batch")]
    for url in urls:
        migrate.upgrade(MIGRATIONS, url)
        _run(load_reference_data(url))
    return urls


@pytest_asyncio.fixture
async def envs(routing_urls):
    """Two routing databases alike: one for the per-event handlers, one for the batch handlers."""
    pair = [Env(url) for url in routing_urls]
    yield pair
    for env in pair:
        await env.engine.dispose()


def submitted(report_id: str, category_code: str = "flooding", category_group: str = "drainage",
              ward_code: str = BEN_THANH, kind: int = reports_pb2.REPORT_KIND_INCIDENT) -> ReceivedEvent:
    return received(reports_events.ReportSubmitted(report_id=report_id, kind=kind, category_code=category_code,
                                                   category_group=category_group, ward_code=ward_code))


def changed(report_id: str, before: str, after: str, actor_role: str = "officer") -> ReceivedEvent:
    def value(status: str) -> int:
        return reports_pb2.ReportStatus.Value(f"REPORT_STATUS_{status.upper()}")
    return received(reports_events.ReportStatusChanged(report_id=report_id, from_status=value(before),
                                                       to_status=value(after), actor_role=actor_role))


async def one_by_one(env: Env, handler: Callable, events: list[ReceivedEvent], now: Callable) -> None:
    """The events in one unit of work through the per-event handler, as the consumer did before."""
    async with env.uow() as uow:
        for e in events:
            await handler(e, uow, now=now)
        await uow.commit()


async def batched(env: Env, batch_handler: Callable, events: list[ReceivedEvent], now: Callable) -> None:
    """The events in one unit of work through the batch handler."""
    async with env.uow() as uow:
        await batch_handler(events, uow, now=now)
        await uow.commit()


async def contents(env: Env) -> dict:
    """Every row the handlers write, and the emitted events (no generated ids, trace headers or times)."""
    async with env.engine.connect() as conn:
        assignments = (await conn.execute(select(Assignment.__table__).order_by(Assignment.report_id))).all()
        clocks = (await conn.execute(select(SlaClockRow.__table__)
                                     .order_by(SlaClockRow.report_id, SlaClockRow.deadline))).all()
        emitted = (await conn.execute(select(outbox.c.subject, outbox.c.event_type, outbox.c.payload)
                                      .order_by(outbox.c.seq))).all()
    events = []
    for subject, event_type, payload in emitted:
        msg = EVENT_TYPES[event_type]()
        msg.ParseFromString(payload)
        events.append((subject, event_type, MessageToDict(msg)))
    return {"assignments": [tuple(r) for r in assignments], "clocks": [tuple(r) for r in clocks], "events": events}


async def prepare(env: Env) -> None:
    """Reports routed before the batches: one reopenable, one with a breached ack clock; one agency off."""
    async with env.engine.begin() as conn:
        await conn.execute(update(Agency).where(Agency.code == "so_xd").values(active=False))
    for report_id in ("old-1", "old-2", "old-3", "old-4"):
        await env.submit(report_id)
    await env.status("old-2", "assigned", "in_progress")
    await env.status("old-3", "in_progress", "resolved", at=T0 + timedelta(hours=1))
    async with env.engine.begin() as conn:
        await conn.execute(update(SlaClockRow).where(SlaClockRow.report_id == "old-4", SlaClockRow.deadline == "ack")
                           .values(breached_at=T0, next_at=None))


SUBMISSIONS = [
    submitted("new-1"), submitted("new-2", "illegal_dumping", "waste"), submitted("new-1"),  # announced twice
    submitted("new-3", "mystery", "mystery"),  # triage
    submitted("new-4", "road_pothole", "roads"),  # its agency is inactive: operations centre
    submitted("old-1"),  # already routed
    submitted("new-5", "feedback_service_quality", "feedback", ward_code="", kind=FEEDBACK),
    submitted("new-6", "illegal_dumping", "waste"),
]
CHANGES = [
    changed("new-1", "assigned", "in_progress"), changed("new-1", "in_progress", "resolved"),  # one report twice
    changed("new-2", "assigned", "in_progress"), changed("new-2", "in_progress", "in_progress"),  # ack stops once
    changed("new-3", "assigned", "rejected"),
    changed("old-4", "assigned", "closed"),  # a breached clock stays breached
    changed("old-2", "in_progress", "assigned"),  # an officer moving it back: only the status
    changed("unknown", "submitted", "assigned"),  # not routed yet, nothing to stop: ignored
    changed("old-3", "resolved", "assigned", actor_role="reporter"),  # reopen: the per-event path
    changed("old-3", "assigned", "in_progress"),  # after the reopen, in the same batch
    changed("new-4", "assigned", "withdrawn"), changed("new-5", "assigned", "closed"),
    changed("new-6", "assigned", "in_progress"),
]


async def test_batches_write_the_same_rows_and_events_as_the_per_event_handlers(envs):
    one, batch = envs
    for env in envs:
        await prepare(env)
    await one_by_one(one, handlers.assign_submitted, SUBMISSIONS, lambda: T0 + 2 * MINUTE)
    await batched(batch, handlers.assign_submitted_batch, SUBMISSIONS, lambda: T0 + 2 * MINUTE)
    assert await contents(batch) == await contents(one)
    await one_by_one(one, handlers.apply_status_change, CHANGES, Steps(T0 + MINUTE))
    await batched(batch, handlers.apply_status_changes, CHANGES, Steps(T0 + MINUTE))
    result = await contents(batch)
    assert result == await contents(one)
    # the scenario did what it says: submissions, a triage alert each for new-3 and new-4, the reopen
    assert [e[2]["reportId"] for e in result["events"][-9:]] == [
        "new-1", "new-2", "new-3", "new-3", "new-4", "new-4", "new-5", "new-6", "old-3"]
    assert result["events"][-1][2]["reopened"] is True
    assert {r[0]: r[-1] for r in result["assignments"]}["old-3"] == "in_progress"


@pytest.mark.parametrize("events", [
    [changed("new-1", "assigned", "in_progress"), changed("unknown", "submitted", "rejected")],
    [changed("new-1", "assigned", "in_progress"), changed("unknown", "resolved", "assigned", actor_role="citizen")],
], ids=["stop", "reopen"])
async def test_a_change_of_a_report_not_routed_yet_fails_the_batch_as_it_fails_one_by_one(envs, events):
    for env in envs:
        await env.submit("new-1")
    one, batch = envs
    with pytest.raises(errors.AssignmentNotYetKnown):
        await one_by_one(one, handlers.apply_status_change, events, lambda: T0)
    with pytest.raises(errors.AssignmentNotYetKnown):
        await batched(batch, handlers.apply_status_changes, events, lambda: T0)
    assert await contents(batch) == await contents(one)  # both rolled back


async def count_statements(env: Env, batch_handler: Callable, events: list[ReceivedEvent]) -> int:
    """Statements the batch handler runs (the commit's outbox write is the unit of work's, not counted)."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)
    async with env.uow() as uow:
        await uow.session.connection()  # the transaction begun (SQLite: BEGIN IMMEDIATE), as the inbox read does
        sa_event.listen(env.engine.sync_engine, "before_cursor_execute", count)
        try:
            await batch_handler(events, uow, now=lambda: T0)
        finally:
            sa_event.remove(env.engine.sync_engine, "before_cursor_execute", count)
        await uow.commit()
    return len(statements)


async def test_a_batch_of_64_reports_takes_three_statements_per_consumer(envs):
    env = envs[1]
    await env.submit("warm-up")  # connected, reference data cached
    reports = [f"r-{i:02}" for i in range(64)]
    # the rules fingerprint, the assignments (RETURNING the new ones), their clocks
    assert await count_statements(env, handlers.assign_submitted_batch, [submitted(r) for r in reports]) <= 3
    assert len(await env.events("ReportAssigned")) == 65
    changes = [changed(r, "assigned", "in_progress" if i % 2 else "resolved") for i, r in enumerate(reports)]
    # the assignments locked, their statuses, the clocks stopped
    assert await count_statements(env, handlers.apply_status_changes, changes) <= 3
    async with env.engine.connect() as conn:
        running = (await conn.execute(select(SlaClockRow.report_id).where(SlaClockRow.stopped_at.is_(None)))).all()
    assert sorted(r for (r,) in running) == sorted(["warm-up", "warm-up", *reports[1::2]])

"""The report consumers' batch handlers: the same rows as the per-event handlers applied one by one,
with a few statements per batch whatever its size."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select

from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from services.notify.adapters.orm import (
    Delivery, Follower, Notification, Preference, Recipient, TrackedReport, inbox, outbox,
)
from services.notify.service_layer import handlers, notifying, templates
from servicekit.events import HDR_ID, HDR_TYPE, Event
from servicekit.inbox import Consumer, received
from tests.integration.notify.conftest import NotifyDb, assigned_event, migrated, opened, recipient

S = reports_pb2


@dataclass
class Msg:
    """A JetStream message as the consumer reads it (no reply subject: a first delivery)."""

    subject: str
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)
    reply: str = ""

    async def ack(self) -> None:
        pass


def msg(message, event_id: str) -> Msg:  # noqa: ANN001
    e = Event.of("reports", message)
    return Msg(e.subject, e.payload, {HDR_ID: event_id, HDR_TYPE: e.event_type})


def status(report_id: str, to: int, reporter: str = "rep-1", agency: str = "ubnd_26743",
           **fields: str) -> reports_events.ReportStatusChanged:
    return reports_events.ReportStatusChanged(report_id=report_id, to_status=to, reporter_id=reporter,
                                              agency_code=agency, **fields)


@pytest.fixture
def twin_url(database_url) -> str:  # noqa: ANN001
    return migrated(database_url, "notify_twin")   # migrations run their own event loop: not in an async fixture


@pytest.fixture
async def twin(twin_url):
    """A second notify database, for the same events applied the other way."""
    async with opened(twin_url) as d:
        yield d


async def seed(db: NotifyDb) -> None:
    """Officers of two agencies, residents in both languages with some chosen channels and quiet
    hours, followers, a report notify already tracks and an inbox item an event already wrote."""
    people = [recipient("off-1", role="officer", agency="ubnd_26743"),
              recipient("adm-1", role="agency_admin", agency="ubnd_26743", language="en"),
              recipient("off-2", role="officer", agency="qhcm"),
              *(recipient(f"rep-{i}", language="en" if i == 2 else "vi") for i in range(1, 7)),
              recipient("fan-1"), recipient("fan-2", language="en")]
    now = datetime(2026, 3, 1, tzinfo=UTC)
    chosen = [Preference(user_id="rep-1", channels=json.dumps({"reports": ["email", "sms"]}), updated_at=now),
              Preference(user_id="fan-2", channels=json.dumps({"reports": ["push"]}), updated_at=now),
              Preference(user_id="rep-3", channels=json.dumps({"reports": ["sms"]}), quiet_start="09:00",
                         quiet_end="11:00", updated_at=now),
              Preference(user_id="off-1", channels=json.dumps({"agency": ["email"]}), updated_at=now)]
    await db.add(*people, *chosen, Follower(report_id="r-02", user_id="fan-1"),
                 Follower(report_id="r-02", user_id="fan-2"), Follower(report_id="r-03", user_id="fan-1"),
                 Follower(report_id="r-03", user_id="stranger"),
                 TrackedReport(report_id="r-05", reporter_id="rep-5", agency_code="qhcm"),
                 Notification(id="old-1", user_id="rep-1", type="report_assigned", title="t", body="b",
                              report_id="r-01", dedupe_key="s-10:rep-1", created_at=now))


SUBMITTED = [msg(reports_events.ReportSubmitted(report_id=f"r-0{i}", reporter_id=f"rep-{i}"), f"n-0{i}")
             for i in range(1, 4)] + [
    msg(reports_events.ReportSubmitted(report_id="r-04"), "n-04"),                      # nobody to tell
    msg(reports_events.ReportSubmitted(report_id="r-05", reporter_id="rep-5"), "n-05"),  # already tracked
    msg(reports_events.ReportSubmitted(report_id="r-01", reporter_id="rep-1"), "n-06"),  # same report again
    msg(reports_events.ReportSubmitted(report_id="r-06", reporter_id="unknown"), "n-07"),
    msg(reports_events.ReportSubmitted(report_id="r-03", reporter_id="rep-3"), "n-03"),  # same event again
]
STATUS = [
    msg(assigned_event("rep-1", "r-01"), "s-01"),
    msg(assigned_event("rep-2", "r-02", from_status=S.REPORT_STATUS_RESOLVED), "s-02"),
    msg(status("r-03", S.REPORT_STATUS_IN_PROGRESS, "rep-3", note="đang hút nước"), "s-03"),
    msg(status("r-02", S.REPORT_STATUS_IN_PROGRESS, "rep-2"), "s-04"),                 # r-02 twice
    msg(status("r-05", S.REPORT_STATUS_CLOSED, reporter="", agency=""), "s-05"),      # the stored reporter
    msg(status("r-09", S.REPORT_STATUS_REJECTED, reporter="", agency="", note="trùng"), "s-06"),  # unknown
    msg(status("r-04", S.REPORT_STATUS_WITHDRAWN, "rep-4"), "s-07"),
    msg(assigned_event("rep-6", "r-06", agency="nobody_here"), "s-08"),
    msg(assigned_event("rep-6", "r-07", agency="qhcm"), "s-09"),
    msg(status("r-01", S.REPORT_STATUS_RESOLVED, "rep-1"), "s-10"),                    # rep-1 already told
    msg(status("r-02", S.REPORT_STATUS_RESOLVED, reporter="", agency=""), "s-11"),    # r-02 a third time
    msg(assigned_event("", "r-03", agency="qhcm"), "s-12"),
    msg(status("r-01", S.REPORT_STATUS_IN_PROGRESS, "rep-1"), "s-01"),                 # a duplicate event id
]
# r-08's first event reads the reporter stored before the batch, the second sets it: applied one by one
DELEGATED = [msg(status("r-05", S.REPORT_STATUS_IN_PROGRESS, reporter=""), "d-01"),
             msg(status("r-08", S.REPORT_STATUS_IN_PROGRESS, reporter=""), "d-02"),
             msg(status("r-08", S.REPORT_STATUS_RESOLVED, reporter="rep-4"), "d-03"),
             msg(status("r-01", S.REPORT_STATUS_CLOSED, "rep-1"), "d-04")]


def consumer(db: NotifyDb, purpose: str, handler, batch_handler=None) -> Consumer:  # noqa: ANN001
    return Consumer(None, service="notify", purpose=purpose, stream="REPORTS", subjects=["reports.>"],
                    handler=handler, batch_handler=batch_handler, uow_factory=db.uow, inbox=inbox)


async def snapshot(db: NotifyDb) -> dict[str, list]:
    """Every table the consumers touch; generated ids and wall-clock times replaced by what they stand for."""
    async with db.engine.connect() as conn:
        def rows(table, *drop: str) -> list[dict]:  # noqa: ANN001
            return [{k: v for k, v in r._mapping.items() if k not in drop} for r in found[table.name]]
        found = {t.name: (await conn.execute(select(t))).all() for t in (
            Notification.__table__, Delivery.__table__, TrackedReport.__table__, Follower.__table__,
            Recipient.__table__, Preference.__table__, inbox, outbox)}
    key_of = {r.id: r.dedupe_key for r in found["notifications"]}
    deliveries = rows(Delivery.__table__, "id")
    for d in deliveries:
        d["notification_id"] = key_of[d["notification_id"]]
    out = {"notifications": rows(Notification.__table__, "id"), "deliveries": deliveries,
           "tracked_reports": rows(TrackedReport.__table__), "followers": rows(Follower.__table__),
           "recipients": rows(Recipient.__table__), "preferences": rows(Preference.__table__),
           "inbox": rows(inbox, "processed_at"), "outbox": rows(outbox, "seq", "event_id", "occurred_at", "headers")}
    return {name: sorted(rs, key=repr) for name, rs in out.items()}


@pytest.mark.parametrize(("purpose", "handler", "batch_handler", "batches"), [
    ("submitted", handlers.on_report_submitted, handlers.on_report_submitted_batch, [SUBMITTED]),
    ("status", handlers.on_status_changed, handlers.on_status_changed_batch, [STATUS, DELEGATED]),
], ids=["submitted", "status"])
async def test_a_batch_writes_what_the_events_one_by_one_write(db, twin, clock, purpose, handler, batch_handler,
                                                               batches):
    for d in (db, twin):
        await seed(d)
        if purpose == "status":   # the reports arrived first, one by one
            for m in SUBMITTED:
                await consumer(d, "submitted", partial(handlers.on_report_submitted, clock=clock)).apply(received(m))
    one_by_one = consumer(db, purpose, partial(handler, clock=clock))
    for batch in batches:
        for m in batch:
            await one_by_one.apply(received(m))
    batched = consumer(twin, purpose, partial(handler, clock=clock), partial(batch_handler, clock=clock))
    for batch in batches:
        assert await batched.apply_batch(batch)   # no roll-back to one by one
    expected, got = await snapshot(db), await snapshot(twin)
    assert got == expected
    assert len(expected["notifications"]) > 5 and expected["deliveries"]   # the scenario tells people


@contextlib.contextmanager
def statements(db: NotifyDb) -> Iterator[list[str]]:
    """The SQL statements the database is sent meanwhile (one per round trip, an executemany included)."""
    sent: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001, ANN002
        sent.append(statement)

    sa_event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        sa_event.remove(db.engine.sync_engine, "before_cursor_execute", count)


@pytest.mark.parametrize(("batch_handler", "message", "most"), [
    # upsert, preferences, templates, notifications, deliveries
    (handlers.on_report_submitted_batch,
     lambda i: reports_events.ReportSubmitted(report_id=f"b-{i:02d}", reporter_id=f"rep-{1 + i % 6}"), 5),
    # and followers, officers
    (handlers.on_status_changed_batch,
     lambda i: assigned_event(f"rep-{1 + i % 6}", f"b-{i:02d}", agency=("ubnd_26743", "qhcm")[i % 2]), 7),
], ids=["submitted", "status"])
async def test_a_batch_of_64_reports_costs_a_few_statements_not_a_few_per_event(db, clock, batch_handler, message,
                                                                                 most):
    await seed(db)
    await db.add(*(Follower(report_id=f"b-{i:02d}", user_id=f"fan-{1 + i % 2}") for i in range(0, 64, 3)))
    events = [received(msg(message(i), f"b-{i}")) for i in range(64)]
    templates.forget_cached()
    notifying.forget_officers()
    async with db.uow() as uow:
        await uow.session.connection()   # the transaction has begun (the consumer has read its inbox)
        with statements(db) as sent:
            await batch_handler(events, uow, clock=clock)
        await uow.commit()
    assert len(sent) <= most, sent
    assert len({n.report_id for n in await db.all(Notification, Notification.report_id.like("b-%"))}) == 64

"""The batch path of the reports-assignments consumer (lifecycle.apply_assignments): the same effect as
the per-event handler applied in order, in a few statements per batch (SQLite, or PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from google.protobuf.json_format import MessageToDict
from sqlalchemy import event, func, select

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import events_pb2
from congdanso.routing.v1 import events_pb2 as routing_events
from services.reports.adapters.orm import Report, ReportStatsDaily, TimelineEntry, inbox, outbox
from services.reports.service_layer import handlers, lifecycle
from servicekit.auth import Principal
from servicekit.events import ReceivedEvent, new_id
from servicekit.inbox import Consumer
from servicekit.protoutil import timestamp
from tests.integration.reports.conftest import reports_database

CITIZEN = Principal(user_id="u-1", role="citizen")
AGENCY = "ubnd_26743"
DUE = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
SUBJECT = "routing.v1.report_assigned"
A = lifecycle.A
# Times the handlers take from the clock; deadlines come from the events and are compared as they are.
CLOCK_COLUMNS = {"submitted_at", "updated_at", "acknowledged_at", "resolved_at", "closed_at", "at", "processed_at"}


@pytest.fixture
async def batch_uow_factory(database_url):
    """A second fresh reports database, as uow_factory's, for the batch path."""
    async with reports_database(database_url, "reports_batch") as factory:
        yield factory


@dataclass
class Msg:
    """The parts of a JetStream message the Consumer reads (first delivery) and answers."""

    subject: str
    data: bytes
    headers: dict
    reply: str = ""
    answers: list = field(default_factory=list)

    async def ack(self) -> None:
        self.answers.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.answers.append("nak")

    async def term(self) -> None:
        self.answers.append("term")


def assignment(event_id: str, report_id: str, agency: str = AGENCY, due: datetime = DUE) -> Msg:
    msg = routing_events.ReportAssigned(
        report_id=report_id, agency_code=agency, agency_name=common_pb2.LocalizedText(vi="UBND", en="Ward office"),
        ack_due_at=timestamp(due - timedelta(days=1)), resolve_due_at=timestamp(due))
    return Msg(SUBJECT, msg.SerializeToString(), {"Nats-Msg-Id": event_id})


def received(msg: Msg) -> ReceivedEvent:
    return ReceivedEvent(id=msg.headers["Nats-Msg-Id"], subject=msg.subject, event_type="", payload=msg.data,
                         headers=msg.headers)


async def submit(uow_factory, n: int) -> list[str]:  # noqa: ANN001
    ids = []
    for i in range(n):
        async with uow_factory() as uow:
            cmd = handlers.SubmitReport(kind="incident", category_code="flooding",
                                        description=f"Đường Lê Lợi ngập nước sâu {i}", latitude=10.77,
                                        longitude=106.70, ward_code="26743", address="Lê Lợi",
                                        idempotency_key=new_id())
            ids.append((await handlers.submit(cmd, uow, CITIZEN)).report.id)
    return ids


async def move(uow_factory, report_id: str, *steps: tuple) -> None:  # noqa: ANN001
    for action, actor in steps:
        async with uow_factory() as uow:
            report = await uow.session.get(Report, report_id)
            await lifecycle.apply(uow, report, action, actor=actor, note="đã xử lý", reason="spam",
                                  at=datetime.now(UTC))
            await uow.commit()


async def prepare(uow_factory) -> list[str]:  # noqa: ANN001
    """Nine reports: 0-2 and 6 submitted, 3-4 in progress, 5 resolved, 7 reopened, 8 rejected."""
    ids = await submit(uow_factory, 9)
    async with uow_factory() as uow:
        for i in (3, 4, 5, 7):
            await lifecycle.apply_assignment(received(assignment(new_id(), ids[i])), uow)
        await uow.commit()
    ack, resolve = (A.ACKNOWLEDGE, "officer"), (A.RESOLVE, "officer")
    for i in (3, 4):
        await move(uow_factory, ids[i], ack)
    await move(uow_factory, ids[5], ack, resolve)
    await move(uow_factory, ids[7], ack, resolve, (A.REOPEN, "reporter"))
    await move(uow_factory, ids[8], (A.REJECT, "operator"))
    return ids


# (event id, report, agency, due): labels index the prepared reports, None is a report nobody has.
LATER = DUE + timedelta(days=3)
EVENTS = {n: new_id() for n in range(16)}
UNKNOWN = new_id()
BATCHES = [
    # fresh reports; 3 in progress (fresh deadlines); 4 in progress at another agency, 5 resolved and
    # 8 rejected (ignored); 7 reopened; 6 and 0 twice (6's second assignment starts a new run)
    [(0, 0, AGENCY, DUE), (1, 1, AGENCY, DUE), (2, 3, AGENCY, LATER), (3, 6, AGENCY, DUE), (4, 4, "other", DUE),
     (5, 2, AGENCY, DUE), (6, 6, "other", LATER), (7, 5, AGENCY, DUE), (8, 7, AGENCY, LATER), (9, 8, AGENCY, DUE),
     (10, 0, "other", LATER)],
    # a redelivery (the inbox drops it) and an unknown report: the batch falls back to one by one
    [(1, 1, AGENCY, DUE), (11, 2, "other", LATER), (12, None, AGENCY, DUE)],
    [(13, 6, AGENCY, DUE)],                       # a lone event: always the per-event handler
    [(14, 5, AGENCY, DUE), (15, 8, AGENCY, DUE)],  # nothing but ignored reports
]


async def consume(uow_factory, ids: list[str], *, batch_handler) -> list:  # noqa: ANN001
    """Feed BATCHES through a real Consumer as its run loop does: per batch, whether it was applied
    in one transaction, and its messages' answers."""
    consumer = Consumer(None, service="reports", purpose="assignments", stream="ROUTING", subjects=[SUBJECT],
                        handler=lifecycle.apply_assignment, uow_factory=uow_factory, inbox=inbox,
                        batch_handler=batch_handler)
    answers = []
    for batch in BATCHES:
        msgs = [assignment(EVENTS[n], UNKNOWN if r is None else ids[r], agency, due) for n, r, agency, due in batch]
        together = len(msgs) > 1 and await consumer.apply_batch(msgs)
        if not together:
            for m in msgs:
                await consumer.process(m)
        answers.append((together, [a for m in msgs for a in m.answers]))
    return answers


def normalised(row: dict, labels: dict[str, str]) -> tuple:
    out = []
    for column, value in sorted(row.items()):
        if column in CLOCK_COLUMNS:
            value = value is not None
        elif column == "durations":
            value = len(value) // 16   # times to resolve, from the clock
        elif isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        out.append((column, labels.get(value, value) if isinstance(value, str) else value))
    return tuple(out)


async def state(uow_factory, ids: list[str], since: int) -> dict:  # noqa: ANN001
    """Every table the consumer writes, ids and clock times normalised; the events emitted after `since`."""
    labels = {report_id: f"report-{i}" for i, report_id in enumerate(ids)}
    out = {}
    async with uow_factory(read_only=True) as uow:
        for name, table in (("reports", Report.__table__), ("timeline", TimelineEntry.__table__),
                            ("stats", ReportStatsDaily.__table__), ("inbox", inbox)):
            rows = (await uow.session.execute(select(table))).mappings().all()
            out[name] = sorted((normalised({k: v for k, v in r.items() if k != "id" or name == "reports"}, labels)
                                for r in rows), key=repr)
        emitted = (await uow.session.execute(select(outbox.c.subject, outbox.c.event_type, outbox.c.payload)
                                             .where(outbox.c.seq > since).order_by(outbox.c.seq))).all()
    out["emitted"] = [(subject, event_type, normalised(MessageToDict(
        events_pb2.ReportStatusChanged.FromString(payload)), labels)) for subject, event_type, payload in emitted]
    return out


async def last_seq(uow_factory) -> int:  # noqa: ANN001
    async with uow_factory(read_only=True) as uow:
        return await uow.session.scalar(select(outbox.c.seq).order_by(outbox.c.seq.desc()).limit(1))


async def test_the_batch_path_leaves_what_the_per_event_handler_leaves(uow_factory, batch_uow_factory):
    results = []
    for factory, batch_handler in ((uow_factory, None), (batch_uow_factory, lifecycle.apply_assignments)):
        ids = await prepare(factory)
        since = await last_seq(factory)
        answers = await consume(factory, ids, batch_handler=batch_handler)
        results.append((answers, await state(factory, ids, since)))
    (one_by_one, expected), (batched, actual) = results
    assert batched == one_by_one == [(True, ["ack"] * 11), (False, ["ack", "ack", "nak"]), (False, ["ack"]),
                                     (True, ["ack"] * 2)]
    for table in ("reports", "timeline", "stats", "inbox", "emitted"):
        assert actual[table] == expected[table], table
    assert [(dict(e)["reportId"], dict(e)["version"]) for _, _, e in actual["emitted"]] == [
        ("report-0", 3), ("report-1", 3), ("report-6", 3), ("report-2", 3), ("report-6", 4), ("report-7", 7),
        ("report-0", 4), ("report-2", 4), ("report-6", 5)]


async def test_an_unknown_report_rolls_the_batch_back(uow_factory):
    ids = await submit(uow_factory, 2)
    async with uow_factory() as uow:
        with pytest.raises(LookupError):
            await lifecycle.apply_assignments([received(assignment(new_id(), r)) for r in (*ids, new_id())], uow)


async def test_a_batch_of_64_reports_takes_a_few_statements(uow_factory):
    ids = await submit(uow_factory, 64)
    statements = []
    async with uow_factory() as uow:
        engine = uow.session.bind.sync_engine
        listener = lambda *args: statements.append(args[2])   # noqa: E731 - (conn, cursor, statement, ...)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            await lifecycle.apply_assignments([received(assignment(new_id(), r)) for r in ids], uow)
            await uow.commit()
        finally:
            event.remove(engine, "before_cursor_execute", listener)
    # read (locked), UPDATE, timeline INSERT; at commit the roll-up upsert and the outbox INSERT
    assert len(statements) <= 6, statements
    async with uow_factory(read_only=True) as uow:
        reports = (await uow.session.execute(select(Report.status, Report.version, Report.agency_code))).all()
        emitted = await uow.session.scalar(select(func.count()).where(
            outbox.c.subject == "reports.v1.report_status_changed"))
    assert sorted(set(reports)) == [("assigned", 3, AGENCY)] and len(reports) == emitted == 64

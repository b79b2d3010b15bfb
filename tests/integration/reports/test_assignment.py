"""routing.v1.report_assigned applied to a real database (Core writes): the report, its timeline, the
event, the version and the stats roll-up end up as the ORM path left them (SQLite, or PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import events_pb2
from congdanso.routing.v1 import events_pb2 as routing_events
from services.reports.adapters import rollup, search
from services.reports.adapters.orm import Report, ReportStatsDaily, TimelineEntry, outbox
from services.reports.service_layer import handlers, lifecycle
from servicekit.auth import Principal
from servicekit.events import ReceivedEvent, new_id
from servicekit.protoutil import timestamp
from tests.conftest import POSTGRES

CITIZEN = Principal(user_id="u-1", role="citizen")
DUE = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


async def submit(uow_factory, description: str = "Đường Lê Lợi ngập nước sâu") -> str:  # noqa: ANN001
    async with uow_factory() as uow:
        cmd = handlers.SubmitReport(kind="incident", category_code="flooding", description=description,
                                    latitude=10.77, longitude=106.70, ward_code="26743", address="Lê Lợi",
                                    idempotency_key=new_id())
        return (await handlers.submit(cmd, uow, CITIZEN)).report.id


def assigned(report_id: str, agency: str = "ubnd_26743", due: datetime = DUE) -> ReceivedEvent:
    msg = routing_events.ReportAssigned(
        report_id=report_id, agency_code=agency, agency_name=common_pb2.LocalizedText(vi="UBND", en="Ward office"),
        ack_due_at=timestamp(due - timedelta(days=1)), resolve_due_at=timestamp(due))
    return ReceivedEvent(id=new_id(), subject="routing.v1.report_assigned", event_type="", payload=msg.SerializeToString(),
                         headers={})


async def rollup_rows(uow_factory) -> list:  # noqa: ANN001
    async with uow_factory(read_only=True) as uow:
        rows = (await uow.session.execute(select(ReportStatsDaily.__table__))).all()
    return sorted(tuple(r) for r in rows if any(r[3:-1]) or r[-1])   # a rebuild drops emptied rows


async def assert_rollup_matches_rebuild(uow_factory) -> None:  # noqa: ANN001
    kept = await rollup_rows(uow_factory)
    async with uow_factory() as uow:
        for sql in rollup.rebuild_sql(uow.session.bind.dialect.name):
            await uow.session.execute(text(sql))
        await uow.commit()
    assert kept == await rollup_rows(uow_factory)


async def test_a_batch_of_assignments_moves_reports_like_the_orm_path(uow_factory):
    first, second = await submit(uow_factory), await submit(uow_factory, "Cống tắc, nước tràn lên hẻm")
    async with uow_factory() as uow:
        for report_id in (first, second, first):   # the same report twice in one batch: assigned again
            await lifecycle.apply_assignment(assigned(report_id), uow)
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        report = await uow.session.get(Report, first)
        actions = (await uow.session.scalars(select(TimelineEntry.action).where(TimelineEntry.report_id == first)
                                             .order_by(TimelineEntry.id))).all()
        payloads = (await uow.session.scalars(select(outbox.c.payload).where(
            outbox.c.subject == "reports.v1.report_status_changed").order_by(outbox.c.seq))).all()
    assert (report.status, report.version, report.agency_code, report.agency_name_en) == (
        "assigned", 4, "ubnd_26743", "Ward office")
    assert report.resolve_due_at.replace(tzinfo=UTC) == DUE
    assert actions == ["submit", "assign", "assign"]
    events = [events_pb2.ReportStatusChanged.FromString(p) for p in payloads]
    assert [(e.report_id, e.version, e.action, e.actor_role, e.note) for e in events] == [
        (first, 3, "assign", "system", "ubnd_26743"), (second, 3, "assign", "system", "ubnd_26743"),
        (first, 4, "assign", "system", "ubnd_26743")]
    assert events[0].resolve_due_at.ToDatetime(UTC) == DUE and events[0].reporter_id == CITIZEN.user_id
    await assert_rollup_matches_rebuild(uow_factory)


async def test_fresh_deadlines_for_a_report_in_progress_change_no_status(uow_factory):
    report_id = await submit(uow_factory)
    async with uow_factory() as uow:
        await lifecycle.apply_assignment(assigned(report_id), uow)
        await uow.commit()
    async with uow_factory() as uow:
        report = await uow.session.get(Report, report_id)
        await lifecycle.apply(uow, report, lifecycle.A.ACKNOWLEDGE, actor="officer", at=datetime.now(UTC))
        await uow.commit()
    later = DUE + timedelta(days=3)
    async with uow_factory() as uow:
        await lifecycle.apply_assignment(assigned(report_id, due=later), uow)
        await lifecycle.apply_assignment(assigned(report_id, agency="other"), uow)   # ignored
        assert uow.events == []
        await uow.commit()
    async with uow_factory(read_only=True) as uow:
        report = await uow.session.get(Report, report_id)
        last = (await uow.session.scalars(select(TimelineEntry).where(TimelineEntry.report_id == report_id)
                                          .order_by(TimelineEntry.id.desc()))).first()
    assert (report.status, report.version, report.resolve_due_at.replace(tzinfo=UTC)) == ("in_progress", 5, later)
    assert (last.action, last.status, last.actor_role, last.note) == ("deadline", "in_progress", "system",
                                                                      "ubnd_26743")
    await assert_rollup_matches_rebuild(uow_factory)


async def test_an_unknown_report_is_retried(uow_factory):
    async with uow_factory() as uow:
        with pytest.raises(LookupError):
            await lifecycle.apply_assignment(assigned(new_id()), uow)


@pytest.mark.skipif(POSTGRES, reason="FTS5 rows exist on SQLite only")
async def test_new_reports_sharing_a_rowid_are_filed_under_the_next_free_ones(uow_factory):
    first = await submit(uow_factory)
    twins = [first[:19] + "ffff-ffffffffffff", first[:19] + "fffe-ffffffffffff"]
    async with uow_factory() as uow:
        connection = await uow.session.connection()
        for twin in twins:
            await search.index_new(connection, twin, "cay do")
        await uow.commit()
        rows = dict((await uow.session.execute(text(
            "SELECT report_id, rowid FROM reports_fts WHERE report_id IN (:a, :b, :c)"),
            {"a": first, "b": twins[0], "c": twins[1]})).all())
    base = search.fts_rowid(first)
    assert rows == {first: base, twins[0]: base + 1, twins[1]: base + 2}

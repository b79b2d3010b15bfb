"""Read side against a real database: stats, search and feed pages agree with brute-force answers
computed in Python over every row (SQLite, or PostgreSQL with CDS_TEST_POSTGRES=1)."""

from __future__ import annotations

import asyncio
import re
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bench.seed import seed_reports
from services.reports.adapters import rollup, search
from services.reports.adapters.orm import Report, ReportStatsDaily, outbox
from services.reports.adapters.seed import load_reference_data
from services.reports.domain.text import search_terms
from services.reports.service_layer import handlers, lifecycle, queries, social
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork
from servicekit import migrate
from servicekit.auth import Principal
from servicekit.db import make_engine, session_factory
from tests.conftest import POSTGRES

ROOT = Path(__file__).resolve().parents[3]
CITIZEN = Principal(user_id="u-1", role="citizen")
OPERATOR = Principal(user_id="op-1", role="operator")
NOW = datetime.now(UTC)


@pytest.fixture
async def db(database_url):
    """A migrated reports database with 1,500 bench-seeded reports over 60 days, plus a few filed
    through the service layer (one without a ward, one resolved on the spot)."""
    url = database_url("reports")
    await asyncio.to_thread(migrate.upgrade, ROOT / "services/reports/migrations", url)
    await load_reference_data(url)
    await seed_reports(url, 1500, budget_s=120, days=60)
    engine = make_engine(url)
    sessions = session_factory(engine)
    uow = lambda read_only=False: ReportsUnitOfWork(sessions, outbox, read_only=read_only)  # noqa: E731
    await submit(uow, "Góp ý: nên có thêm thùng rác công cộng", kind="feedback",
                 category="feedback_service_quality", ward="")
    resolved = await submit(uow, "Đường Lê Lợi ngập nước sau mưa")
    async with uow() as w:
        report = await w.session.get(Report, resolved)
        for action, actor in ((lifecycle.A.ASSIGN, "system"), (lifecycle.A.ACKNOWLEDGE, "officer"),
                              (lifecycle.A.RESOLVE, "officer")):
            await lifecycle.apply(w, report, action, actor=actor, note="done", at=datetime.now(UTC))
        await w.commit()
    yield uow
    await engine.dispose()


async def submit(uow, description: str, *, kind: str = "incident", category: str = "flooding",  # noqa: ANN001
                 ward: str = "26743") -> str:
    async with uow() as w:
        cmd = handlers.SubmitReport(kind=kind, category_code=category, description=description,
                                    latitude=10.77 if ward else None, longitude=106.70 if ward else None,
                                    ward_code=ward, address="12 Lê Lợi" if ward else "")
        return (await handlers.submit_report(cmd, w, CITIZEN)).id


async def all_reports(uow) -> list[Report]:  # noqa: ANN001
    async with uow(read_only=True) as r:
        return list((await r.session.scalars(select(Report))).all())


def aware(ts: datetime | None) -> datetime | None:
    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def brute_stats(reports: list[Report], *, start: datetime, end: datetime, group_by: str, agency_code: str = "",
                ward_code: str = "", category_code: str = "") -> list[dict]:
    """The stats as computed before the read-side work: every row of the period, in Python."""
    column = {"agency": "agency_code", "ward": "ward_code", "category": "category_code"}[group_by]
    rows: dict[str, dict] = {}
    hours: dict[str, list[float]] = {}
    for r in reports:
        if not start <= aware(r.submitted_at) < end:
            continue
        if (agency_code and r.agency_code != agency_code) or (ward_code and r.ward_code != ward_code) or \
                (category_code and r.category_code != category_code):
            continue
        k = getattr(r, column) or ""
        row = rows.setdefault(k, {"key": k, "total": 0, "by_status": {}, "resolved": 0, "resolved_on_time": 0,
                                  "ratings": 0, "rating_sum": 0})
        row["total"] += 1
        row["by_status"][r.status] = row["by_status"].get(r.status, 0) + 1
        if r.resolved_at is not None:
            row["resolved"] += 1
            row["resolved_on_time"] += int(r.resolve_due_at is None or aware(r.resolved_at) <= aware(r.resolve_due_at))
            hours.setdefault(k, []).append((aware(r.resolved_at) - aware(r.submitted_at)).total_seconds() / 3600)
        if r.rating:
            row["ratings"] += 1
            row["rating_sum"] += r.rating
    for k, row in rows.items():
        row["on_time_rate"] = row["resolved_on_time"] / row["resolved"] if row["resolved"] else 0.0
        row["median_hours_to_resolve"] = statistics.median(hours[k]) if hours.get(k) else 0.0
        rating_sum = row.pop("rating_sum")
        row["mean_rating"] = rating_sum / row["ratings"] if row["ratings"] else 0.0
    return sorted(rows.values(), key=lambda r: (-r["total"], r["key"]))


async def assert_stats_match(db) -> int:  # noqa: ANN001
    """queries.stats == brute_stats over whole-day, partial-day and filtered periods; rows seen."""
    reports = await all_reports(db)
    some = next(r for r in reports if r.status == "closed")
    day = timedelta(days=1)
    midnight = datetime.combine(NOW.date(), datetime.min.time(), UTC)
    hour = timedelta(hours=1)
    periods = [(NOW - 30 * day, NOW + day), (NOW - 61 * day, NOW + day), (NOW - 45 * day, NOW - 15 * day),
               (NOW - 400 * day, NOW - 300 * day), (NOW - 2 * day, NOW - day), (NOW - 3 * day, NOW),
               # partial days at both ends, added (a short tail / head) or taken from the whole day
               (midnight - 40 * day + 20 * hour, midnight - 10 * day + 3 * hour),
               (midnight - 40 * day + 3 * hour, midnight - 10 * day + 20 * hour),
               (midnight - 40 * day, midnight - 10 * day), (midnight - 5 * day + hour, midnight - 4 * day)]
    # `to` = now: just after the newest report (its day from the roll-up), and at it (it is left out)
    latest = max(aware(r.submitted_at) for r in reports)
    periods += [(latest - 3 * day, latest + timedelta(seconds=1)), (latest - 3 * day, latest)]
    filters = [{}, {"agency_code": some.agency_code}, {"ward_code": some.ward_code}, {"category_code": "flooding"},
               {"agency_code": some.agency_code, "category_code": some.category_code}]
    checked = 0
    async with db(read_only=True) as r:
        for start, end in periods:
            for group_by in ("agency", "ward", "category"):
                for extra in filters:
                    got = await queries.stats(r.session, start=start, end=end, group_by=group_by, **extra)
                    assert got == brute_stats(reports, start=start, end=end, group_by=group_by, **extra), \
                        (start, end, group_by, extra)
                    checked += len(got)
    return checked


async def test_stats_equal_the_brute_force_answer(db):
    assert await assert_stats_match(db) > 500   # real groups, medians of odd and even counts
    assert any(row["key"] == "" for row in await _stats(db, "ward"))   # the report without a ward


async def test_rollup_follows_every_kind_of_change(db):
    """Transitions, a transfer to another agency, a rating: the roll-up (kept by rollup.py on each
    flush) still gives the brute-force answer and equals one recomputed from scratch."""
    reports = await all_reports(db)
    by_status = {s: [r.id for r in reports if r.status == s] for s in ("assigned", "in_progress", "resolved")}
    steps = [(by_status["assigned"][0], [(lifecycle.A.ACKNOWLEDGE, "officer"), (lifecycle.A.RESOLVE, "officer")]),
             (by_status["resolved"][0], [(lifecycle.A.REOPEN, "reporter")]),
             (by_status["resolved"][1], [(lifecycle.A.CONFIRM, "reporter")]),
             (by_status["assigned"][1], [(lifecycle.A.REJECT, "operator")])]
    for report_id, actions in steps:
        async with db() as w:
            report = await w.session.get(Report, report_id)
            for action, actor in actions:
                await lifecycle.apply(w, report, action, actor=actor, note="x", at=datetime.now(UTC))
            await w.commit()
    async with db() as w:   # what apply_transfer does, without the routing event around it
        report = await w.session.get(Report, by_status["in_progress"][0])
        report.agency_code, report.resolve_due_at = "ubnd_transfer", datetime.now(UTC) + timedelta(days=2)
        await lifecycle.apply(w, report, lifecycle.A.TRANSFER, actor="system", note="x", at=datetime.now(UTC))
        await w.commit()
    async with db() as w:   # changed, flushed, never committed: leaves no trace in the roll-up
        report = await w.session.get(Report, by_status["in_progress"][1])
        await lifecycle.apply(w, report, lifecycle.A.RESOLVE, actor="officer", note="x", at=datetime.now(UTC))
    rated = by_status["resolved"][2]
    async with db() as w:
        reporter = Principal(user_id=(await w.session.get(Report, rated)).reporter_id, role="citizen")
    async with db() as w:
        await social.rate(rated, 4, "ổn", w, reporter)
    assert await assert_stats_match(db) > 500
    kept = await rollup_rows(db)
    async with db() as w:
        for statement in rollup.rebuild_sql(w.session.bind.dialect.name):
            await w.session.execute(text(statement))
        await w.commit()
    assert kept == await rollup_rows(db)


async def rollup_rows(db) -> dict:  # noqa: ANN001
    """The roll-up's non-empty rows, durations as sorted lists."""
    async with db(read_only=True) as r:
        rows = (await r.session.execute(select(ReportStatsDaily))).scalars().all()
    return {(x.dim, x.day, x.key): ([getattr(x, c) for c in rollup.COUNTS],
                                    sorted(rollup.decode(x.durations)))
            for x in rows if any(getattr(x, c) for c in rollup.COUNTS)}


async def _stats(db, group_by: str) -> list[dict]:  # noqa: ANN001
    async with db(read_only=True) as r:
        return await queries.stats(r.session, start=NOW - timedelta(days=1), end=NOW + timedelta(hours=1),
                                   group_by=group_by)


def words(report: Report) -> set[str]:
    return set(re.findall(r"\w+", report.search_text))


def search_terms_of(text: str) -> set[str]:
    return set(search_terms(text))


async def pages(db, f: queries.ReportFilter, principal: Principal | None = None, limit: int = 25) -> list[str]:  # noqa: ANN001
    """Every id the listing yields, following cursors to the end."""
    seen, cursor = [], ""
    async with db(read_only=True) as r:
        while True:
            rows, cursor = await queries.list_reports(r.session, f, principal, cursor=cursor, limit=limit)
            seen += [x.id for x in rows]
            if not cursor:
                return seen


@pytest.mark.parametrize("case", ["plain", "ward", "status", "period", "oldest", "agency_scope", "rare"])
async def test_search_pages_equal_the_brute_force_answer(db, case):
    reports = await all_reports(db)
    ward = reports[0].ward_code
    start, end = NOW - timedelta(days=40), NOW - timedelta(days=10)
    f = queries.ReportFilter(q="Đường NGẬP nuoc")
    principal = None
    want = [r for r in reports if {"duong", "ngap", "nuoc"} <= words(r)]
    if case == "rare":   # a few hits: PostgreSQL's first window does not fill the page
        rare = next(r for r in reports if r.visibility == "public" and r.address)
        f.q, want = rare.address, [r for r in reports if search_terms_of(rare.address) <= words(r)]
    if case == "ward":
        f.ward_codes, want = [ward], [r for r in want if r.ward_code == ward]
    if case == "status":
        f.statuses, want = ["resolved", "closed"], [r for r in want if r.status in ("resolved", "closed")]
    if case == "period":
        f.submitted_from, f.submitted_to = start, end
        want = [r for r in want if start <= aware(r.submitted_at) < end]
    if case == "agency_scope":
        f.scope, f.agency_code, principal = "agency", reports[0].agency_code, OPERATOR
        want = [r for r in want if r.agency_code == reports[0].agency_code]
    if case != "agency_scope":
        want = [r for r in want if r.visibility == "public"]
    if case == "oldest":
        f.sort = "oldest"
    ids = sorted((r.id for r in want), reverse=case != "oldest")
    assert len(ids) > (0 if case == "rare" else 3)
    assert await pages(db, f, principal, limit=7 if case in ("ward", "agency_scope") else 25) == ids


async def test_search_offset_and_first_page(db):
    reports = await all_reports(db)
    ids = sorted((r.id for r in reports if r.visibility == "public" and {"den", "duong"} <= words(r)), reverse=True)
    async with db(read_only=True) as r:
        first, cursor = await queries.list_reports(r.session, queries.ReportFilter(q="đèn đường"), None,
                                                   cursor="", limit=20)
        shifted, _ = await queries.list_reports(r.session, queries.ReportFilter(q="đèn đường", offset=5), None,
                                                cursor="", limit=20)
    assert [x.id for x in first] == ids[:20] and cursor
    assert [x.id for x in shifted] == ids[5:25]


@pytest.mark.parametrize("days", [(40, 20), (59, 58), (1, 0)])
async def test_feed_date_range_pages_equal_the_brute_force_answer(db, days):
    start, end = NOW - timedelta(days=days[0]), NOW - timedelta(days=days[1]) + timedelta(minutes=1)
    reports = await all_reports(db)
    want = sorted((r.id for r in reports if r.visibility == "public" and start <= aware(r.submitted_at) < end),
                  reverse=True)
    assert want
    assert await pages(db, queries.ReportFilter(submitted_from=start, submitted_to=end)) == want
    assert await pages(db, queries.ReportFilter(submitted_from=start, submitted_to=end, sort="oldest")) == want[::-1]


async def test_report_ids_are_minted_at_submission(db):
    """The id window of date-range feeds relies on it (queries.SLACK_MS)."""
    report_id = await submit(db, "Cống tắc giữa đường Nguyễn Huệ", category="drain_blocked")
    async with db(read_only=True) as r:
        report = await r.session.get(Report, report_id)
    minted = datetime.fromtimestamp((int(report_id.replace("-", "")[:12], 16)) / 1000, UTC)
    assert abs(minted - aware(report.submitted_at)) < timedelta(seconds=5)


@pytest.mark.skipif(POSTGRES, reason="FTS5 rows exist on SQLite only")
async def test_fts_rows_are_filed_under_the_id_and_refiled_in_place(db):
    first = await submit(db, "Cây đổ chắn ngang hẻm", category="fallen_tree")
    async with db() as w:
        report = await w.session.get(Report, first)
        twin = Report(**{c.key: getattr(report, c.key) for c in Report.__table__.columns if c.key != "version"})
        twin.id = first[:19] + "ffff-ffffffffffff"          # same top 64 bits: probes the next rowid
        w.session.add(twin)
        await w.session.flush()
        await search.index_report(w.session, twin)
        report.description = "Cây đổ đè lên xe máy"
        await search.index_report(w.session, report)      # the text changed: same row, same rowid
        await w.commit()
    async with db(read_only=True) as r:
        rows = dict((await r.session.execute(text("SELECT report_id, rowid FROM reports_fts WHERE report_id IN "
                                                  "(:a, :b)"), {"a": first, "b": twin.id})).all())
    assert rows == {first: search.fts_rowid(first), twin.id: search.fts_rowid(first) + 1}
    assert first in await pages(db, queries.ReportFilter(q="xe may"))
    assert first not in await pages(db, queries.ReportFilter(q="ngang hem"))
    assert twin.id in await pages(db, queries.ReportFilter(q="ngang hem"))


async def test_date_ranges_at_the_ends_of_time(db):
    reports = await all_reports(db)
    start, end = datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC)
    public = sorted((r.id for r in reports if r.visibility == "public"), reverse=True)
    assert await pages(db, queries.ReportFilter(submitted_from=start, submitted_to=end), limit=100) == public
    hits = [i for i, r in sorted(((r.id, r) for r in reports), reverse=True)
            if r.visibility == "public" and {"ngap", "nuoc"} <= words(r)]
    assert await pages(db, queries.ReportFilter(q="ngap nuoc", submitted_from=start, submitted_to=end)) == hits


async def test_a_rollup_out_of_step_never_fails_a_report_change(db):
    """Rows missing (a bulk load without rebuild_sql): transitions still commit; a rebuild mends it."""
    reports = await all_reports(db)
    report_id = next(r.id for r in reports if r.status == "in_progress")
    async with db() as w:
        await w.session.execute(text("DELETE FROM report_stats_daily"))
        await w.commit()
    async with db() as w:
        report = await w.session.get(Report, report_id)
        await lifecycle.apply(w, report, lifecycle.A.RESOLVE, actor="officer", note="x", at=datetime.now(UTC))
        await w.commit()
    async with db() as w:
        for statement in rollup.rebuild_sql(w.session.bind.dialect.name):
            await w.session.execute(text(statement))
        await w.commit()
    assert await assert_stats_match(db) > 500

"""Revision 0005 on a database that already holds reports: the stats roll-up is backfilled, FTS5 rows
are refiled under id-derived rowids (SQLite), and the downgrade returns to revision 0004."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, select, text

from bench.seed import seed_reports
from services.reports.adapters import search
from services.reports.adapters.orm import Report, outbox
from services.reports.adapters.seed import load_reference_data
from services.reports.service_layer import queries
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork
from servicekit import migrate
from servicekit.db import make_engine, session_factory
from tests.conftest import POSTGRES
from tests.integration.reports.test_read_side import brute_stats, words

MIGRATIONS = Path(__file__).resolve().parents[3] / "services/reports/migrations"


async def _tables_and_indexes(engine) -> tuple[set[str], set[str]]:  # noqa: ANN001
    async with engine.connect() as conn:
        def look(sync_conn):  # noqa: ANN001, ANN202
            insp = inspect(sync_conn)
            return set(insp.get_table_names()), {i["name"] for i in insp.get_indexes("reports")}
        return await conn.run_sync(look)


async def test_0005_backfills_refiles_and_downgrades(database_url):
    url = database_url("reports")
    await asyncio.to_thread(migrate.upgrade, MIGRATIONS, url, "0004")
    await load_reference_data(url)
    await seed_reports(url, 400, budget_s=60, days=40)
    engine = make_engine(url)
    if not POSTGRES:   # FTS rows as revision 0004 filed them: next free rowid, in no particular order
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM reports_fts"))
            await conn.execute(text("INSERT INTO reports_fts (report_id, body) "
                                    "SELECT id, search_text FROM reports ORDER BY random()"))
    await asyncio.to_thread(migrate.upgrade, MIGRATIONS, url)
    await engine.dispose()   # a fresh pool: no connection keeps the pre-migration schema cached
    sessions = session_factory(engine := make_engine(url))
    now = datetime.now(UTC)
    async with ReportsUnitOfWork(sessions, outbox, read_only=True) as uow:
        reports = list((await uow.session.scalars(select(Report))).all())
        for group_by in ("agency", "ward", "category"):
            got = await queries.stats(uow.session, start=now - timedelta(days=30), end=now, group_by=group_by)
            assert got == brute_stats(reports, start=now - timedelta(days=30), end=now, group_by=group_by)
        rows, _ = await queries.list_reports(uow.session, queries.ReportFilter(q="duong ngap nuoc"), None,
                                             cursor="", limit=10)
        if not POSTGRES:
            filed = dict((await uow.session.execute(text("SELECT report_id, rowid FROM reports_fts"))).all())
            assert filed == {r.id: search.fts_rowid(r.id) for r in reports}
    want = sorted((r.id for r in reports if r.visibility == "public" and {"duong", "ngap", "nuoc"} <= words(r)),
                  reverse=True)
    assert [r.id for r in rows] == want[:10]
    tables, indexes = await _tables_and_indexes(engine)
    assert "report_stats_daily" in tables and {"ix_reports_feed", "ix_reports_period"} <= indexes
    await engine.dispose()

    await asyncio.to_thread(command.downgrade, migrate.alembic_config(MIGRATIONS, url), "0004")
    engine = make_engine(url)
    tables, indexes = await _tables_and_indexes(engine)
    assert "report_stats_daily" not in tables
    assert {"ix_reports_public_feed", "ix_reports_agency_code", "ix_reports_reporter_id"} <= indexes
    assert not {"ix_reports_feed", "ix_reports_period"} & indexes
    await engine.dispose()
    await asyncio.to_thread(migrate.upgrade, MIGRATIONS, url)   # and up again

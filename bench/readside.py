"""`python -m bench.readside --reports 100000 [--postgres] [--runs 200] [--explain NAME]`: read-side queries
timed at the service layer, without HTTP.

Builds a fresh reports database (migrations to head, reference data), bulk-seeds N reports with
`bench.seed.seed_reports` (the same rows scenario 5 of `python -m bench` uses), then runs each
query function of `services.reports.service_layer.queries` `--runs` times on one read-only unit
of work per call (as the servicer does) and prints p50 / p99 wall time per query, and the p50 of
this process's CPU time (SQLite's work included, PostgreSQL's not: steadier than wall time on a
shared machine). SQLite files live in a temporary directory; PostgreSQL databases are named
`cds_readside_<hex>`; both are removed afterwards unless `--keep`. `--database URL` measures an
existing, already seeded database instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from bench import seed
from services.reports.adapters.orm import outbox
from services.reports.adapters.seed import load_reference_data
from services.reports.service_layer import queries
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork
from servicekit import migrate
from servicekit.db import make_engine, session_factory

ROOT = Path(__file__).resolve().parents[1]
PG_DSN = os.environ.get("CDS_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
F = queries.ReportFilter


def cases(now: datetime, ward: str) -> dict[str, tuple]:
    """name -> (kind, arguments): the bench's three queries first, then common variants."""
    month = {"start": now - timedelta(days=30), "end": now}
    old = (now - timedelta(days=230), now - timedelta(days=200))
    return {
        "floor": ("floor", None),   # a unit of work running SELECT 1: what every query pays anyway
        "feed": ("list", F()),
        "search": ("list", F(q="duong ngap nuoc")),
        "stats": ("stats", {**month, "group_by": "agency"}),
        "feed_page3": ("pages", F()),
        "feed_status": ("list", F(statuses=["in_progress"])),
        "feed_ward": ("list", F(ward_codes=[ward])),
        "feed_category": ("list", F(category_codes=["road_pothole"])),
        "feed_bbox": ("list", F(bbox=(10.80, 106.70, 10.81, 106.71))),
        "feed_month_ago": ("list", F(submitted_from=old[0], submitted_to=old[1])),
        "feed_ward_status": ("list", F(ward_codes=[ward], statuses=["assigned", "in_progress"])),
        "search_page3": ("pages", F(q="duong ngap nuoc")),
        "search_rare": ("list", F(q="399 kha van can")),
        "search_ward": ("list", F(q="ngap nuoc", ward_codes=[ward])),
        "search_oldest": ("list", F(q="den duong", sort="oldest")),
        "stats_ward": ("stats", {**month, "group_by": "ward"}),
        "stats_category": ("stats", {**month, "group_by": "category"}),
        "stats_year_one_agency": ("stats", {"start": now - timedelta(days=365), "end": now,
                                            "group_by": "category", "agency_code": f"ubnd_{ward}"}),
    }


async def run_case(uow_factory, kind: str, arg) -> int:  # noqa: ANN001
    """One call of the query; returns how many rows it answered."""
    async with uow_factory() as uow:
        if kind == "floor":
            return len((await uow.session.execute(text("SELECT 1"))).all())
        if kind == "stats":
            return len(await queries.stats(uow.session, **arg))
        if kind == "list":
            return len((await queries.list_reports(uow.session, arg, None, cursor="", limit=20))[0])
        cursor, n = "", 0
        for _ in range(3):   # three pages: the third's time is what a scrolling reader waits for
            rows, cursor = await queries.list_reports(uow.session, arg, None, cursor=cursor, limit=20)
            n += len(rows)
        return n


async def explain(uow_factory, names: list[str], ward: str) -> None:  # noqa: ANN001
    """Print the plan of every statement the named cases run (captured from the driver)."""
    from sqlalchemy import event

    for name, (kind, arg) in cases(datetime.now(UTC), ward).items():
        if name not in names:
            continue
        async with uow_factory() as uow:
            conn = await uow.session.connection()
            seen: list[tuple] = []
            listener = lambda *a: seen.append((a[2], a[3]))  # noqa: E731  (conn, cursor, statement, params, ...)
            event.listen(conn.sync_connection, "before_cursor_execute", listener)
            await run_case(lambda: _Reuse(uow), kind, arg)
            event.remove(conn.sync_connection, "before_cursor_execute", listener)
            sqlite = conn.dialect.name == "sqlite"
            for statement, params in seen[:2]:
                prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
                plan = (await conn.exec_driver_sql(prefix + statement, params)).all()
                print(f"--- {name}: {' '.join(statement.split())[:300]}")
                print("\n".join(str(r[-1]) for r in plan))


class _Reuse:
    """A unit of work that is already open (explain runs a case inside its own)."""

    def __init__(self, uow) -> None:  # noqa: ANN001
        self.uow = uow

    async def __aenter__(self):  # noqa: ANN204
        return self.uow

    async def __aexit__(self, *exc) -> None:
        return None


async def measure(url: str, runs: int, only: list[str]) -> dict:
    """p50 / p99 (ms) and answer sizes of every case."""
    engine = make_engine(url)
    sessions = session_factory(engine)
    uow_factory = lambda: ReportsUnitOfWork(sessions, outbox, read_only=True)  # noqa: E731
    ward = (await seed.rows(url, "SELECT min(code) FROM wards"))[0][0]
    out = {}
    try:
        for name, (kind, arg) in cases(datetime.now(UTC), ward).items():
            if only and name not in only:
                continue
            answered = await run_case(uow_factory, kind, arg)   # warm-up (and caches)
            times, cpu = [], []
            for _ in range(runs):
                t0, c0 = time.perf_counter(), time.process_time()
                await run_case(uow_factory, kind, arg)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            times.sort()
            out[name] = {"p50_ms": round(statistics.median(times), 2),
                         "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 2),
                         "cpu_p50_ms": round(statistics.median(cpu), 2), "rows": answered}
            print(f"{name:22} p50 {out[name]['p50_ms']:8.2f} ms  p99 {out[name]['p99_ms']:8.2f} ms  "
                  f"cpu p50 {out[name]['cpu_p50_ms']:7.2f} ms  rows {answered}", flush=True)
    finally:
        await engine.dispose()
    return out


async def _explained(url: str, names: list[str] | None) -> dict:
    """Print the plans of the named cases (nothing to add to the JSON)."""
    if names:
        engine = make_engine(url)
        sessions = session_factory(engine)
        ward = (await seed.rows(url, "SELECT min(code) FROM wards"))[0][0]
        await explain(lambda: ReportsUnitOfWork(sessions, outbox, read_only=True), names, ward)
        await engine.dispose()
    return {}


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def main_async(args: argparse.Namespace) -> dict:
    """Create, seed, measure, clean up (or only measure `--database`)."""
    if args.database:
        return {"db": args.database, "queries": await measure(args.database, args.runs, args.only or []),
                **await _explained(args.database, args.explain)}
    tmp, db = None, f"cds_readside_{uuid.uuid4().hex[:10]}"
    if args.postgres:
        await _pg(f'CREATE DATABASE "{db}"')
        url = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{db}"
    else:
        tmp = Path(tempfile.mkdtemp(prefix="cds-readside-"))
        url = f"sqlite+aiosqlite:///{tmp / 'reports.db'}"
    print(f"database: {url}", flush=True)
    try:
        await asyncio.to_thread(migrate.upgrade, ROOT / "services/reports/migrations", url)
        await load_reference_data(url)
        seeded = await seed.seed_reports(url, args.reports, budget_s=args.budget)
        print(f"seeded {seeded['rows']:,} reports in {seeded['seconds']} s "
              f"({seeded['rows'] / max(seeded['seconds'], 0.001):,.0f} rows/s)", flush=True)
        result = {"db": "postgresql" if args.postgres else "sqlite", "seed": seeded,
                  "queries": await measure(url, args.runs, args.only or [])}
        return result | await _explained(url, args.explain)
    finally:
        if args.keep:
            print(f"kept: {url}")
        else:
            if tmp:
                shutil.rmtree(tmp, ignore_errors=True)
            if args.postgres:
                await _pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def main() -> None:
    """Parse arguments, run, print a JSON summary last."""
    parser = argparse.ArgumentParser(prog="python -m bench.readside", description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000, help="reports to seed (default 100000)")
    parser.add_argument("--postgres", action="store_true", help=f"a fresh PostgreSQL database on {PG_DSN}")
    parser.add_argument("--runs", type=int, default=200, help="timed calls per query (default 200)")
    parser.add_argument("--only", action="append", metavar="NAME", help="only these queries (repeatable)")
    parser.add_argument("--budget", type=float, default=1800, help="seeding budget in seconds (default 1800)")
    parser.add_argument("--explain", action="append", metavar="NAME",
                        help="print the plans of this query's statements (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--database", metavar="URL", help="measure this already seeded database instead")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()

"""Bulk seeding straight into the services' databases (SQLite via sqlite3, PostgreSQL via COPY).

Rows look like what the services write themselves: reports carry `search_text` built by
`services.reports.adapters.search.document_text` (and, on SQLite, a `reports_fts` row under
`search.fts_rowid`); notify recipients look like the projection of identity's `user_registered`.
Seeding stops after the batch that crosses `budget_s`, and says how many rows it wrote.

Reports are bulk loaded with the table's secondary indexes dropped and rebuilt afterwards (one
sort per index instead of a random B-tree insert per row and index); on SQLite the FTS5 rows go in
per batch, in rowid order. The daily stats roll-up, which the service keeps in step on every write
through its ORM, is recomputed from all reports at the end (`rollup.rebuild_sql`).
"""

from __future__ import annotations

import functools
import operator
import random
import sqlite3
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.reports.adapters.rollup import rebuild_sql
from services.reports.adapters.search import fts_rowid
from services.reports.domain.text import fold
from services.reports.service_layer.lifecycle import REOPEN_WINDOW

BATCH = 20_000
RECIPIENT_PREFIX = "bench000-"
STREETS = ["Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Điện Biên Phủ", "Cách Mạng Tháng Tám", "Võ Văn Kiệt",
           "Trần Hưng Đạo", "Phạm Văn Đồng", "Lý Thường Kiệt", "Nguyễn Thị Minh Khai", "Xô Viết Nghệ Tĩnh",
           "Huỳnh Tấn Phát", "Quang Trung", "Phan Văn Trị", "Kha Vạn Cân"]
# (description, preferred category) -- one in four mentions a flooded street ("đường ... ngập nước")
TEMPLATES = [
    ("Đường {street} ngập nước sâu sau cơn mưa lớn, xe máy chết máy hàng loạt.", "flooding"),
    ("Ổ gà lớn giữa đường {street}, rất nguy hiểm cho người đi xe máy.", "road_pothole"),
    ("Đèn đường trên {street} bị hỏng nhiều ngày, buổi tối rất tối.", "streetlight_out"),
    ("Rác thải bị đổ trộm ở đầu hẻm {street}, bốc mùi hôi.", "illegal_dumping"),
    ("Cống thoát nước trên đường {street} bị tắc, mưa là ngập nước.", "flooding"),
    ("Cây xanh trên vỉa hè {street} nghiêng, có nguy cơ ngã đổ.", "tree_fallen"),
    ("Công trình xây dựng tại {street} gây tiếng ồn sau 22 giờ.", "noise"),
    ("Đề nghị lắp thêm đèn tín hiệu giao thông tại ngã tư {street}.", "traffic_signal"),
]
STATUSES = [("assigned", 30), ("in_progress", 15), ("resolved", 25), ("closed", 25), ("rejected", 5)]


def _sqlite_path(url: str) -> Path | None:
    return Path(url.split(":///", 1)[1]) if url.startswith("sqlite") else None


def _pg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def uuid7_at(ts: datetime, rng: random.Random) -> str:
    """A UUIDv7 for a given time (so seeded ids sort with submitted_at, like the service's ids)."""
    ms = int(ts.timestamp() * 1000)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rng.getrandbits(12) << 64 | 0b10 << 62 | rng.getrandbits(62)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _sqlite_ts(ts: datetime) -> str:
    """How SQLAlchemy stores a DateTime on SQLite (naive ISO text, UTC, always with microseconds);
    `ts` is in UTC already (every seeded time is `now` in UTC plus a timedelta)."""
    return ts.isoformat(" ", "microseconds")[:26]


_fold = functools.lru_cache(maxsize=1 << 13)(fold)


def _document(category: str, address: str, description: str) -> str:
    """search.document_text(category, address, description) from folded parts, each folded once:
    folding works character by character, so the folded whole is the folded parts joined
    (tests/unit/test_bench_seed.py checks it on the seeded texts)."""
    return " ".join([_fold(category.replace("_", " ")), _fold(address), _fold(description)])


class _Catalog:
    def __init__(self, categories: list[tuple[str, str, str]], wards: list[str]):
        self.categories = {c[0]: c for c in categories}
        self.category_list = categories
        self.wards = wards


def _report_rows(catalog: _Catalog, start: int, count: int, total: int, now: datetime, days: int,  # noqa: PLR0913
                 rng: random.Random, ts=lambda t: t):  # noqa: ANN001
    """Yield `count` report dicts (row start.. of total), spread evenly over the last `days` days;
    timestamps go through `ts` (datetimes for COPY, text for SQLite)."""
    statuses = [s for s, w in STATUSES for _ in range(w)]
    span = timedelta(days=days).total_seconds()
    reporters = [str(uuid.UUID(int=(0xBE << 120) | i)) for i in range(1000)]
    wards, rand = catalog.wards, rng.random   # rand() * n: randrange's checks cost more than the rest
    hour = timedelta(hours=1)
    for i in range(start, start + count):
        submitted = now - timedelta(seconds=span * (total - i) / total + rand())
        template, wanted = TEMPLATES[i % len(TEMPLATES)]
        street = STREETS[int(rand() * len(STREETS))]
        category = catalog.categories.get(wanted) or catalog.category_list[i % len(catalog.category_list)]
        ward = wards[int(rand() * len(wards))]
        status = statuses[int(rand() * len(statuses))]
        address = f"{1 + int(rand() * 400)} {street}"
        description = template.format(street=street)
        resolve_due = submitted + hour * (24, 72, 120)[int(rand() * 3)]
        resolved = submitted + hour * (2 + 148 * rand()) if status in ("resolved", "closed") else None
        if status == "resolved" and resolved < now - REOPEN_WINDOW:
            status = "closed"   # nobody answered within 7 days: the platform closed it (as auto-close would)
        yield {
            "id": uuid7_at(submitted, rng), "kind": category[1], "category_code": category[0],
            "category_group": category[2], "description": description,
            "latitude": 10.75 + rand() * 0.1, "longitude": 106.65 + rand() * 0.1,
            "ward_code": ward, "address": address, "status": status,
            "visibility": "public" if rand() < 0.9 else "private", "anonymous": False,
            "reporter_id": reporters[int(rand() * len(reporters))], "agency_code": f"ubnd_{ward}",
            "agency_name_vi": f"UBND phường {ward}", "agency_name_en": f"Ward {ward} People's Committee",
            "ack_due_at": ts(submitted + 8 * hour), "resolve_due_at": ts(resolve_due),
            "submitted_at": ts(submitted), "updated_at": ts(resolved or submitted), "version": 2,
            "acknowledged_at": ts(submitted + hour) if status != "assigned" else None,
            "resolved_at": ts(resolved) if resolved else None,
            "closed_at": ts(resolved + 24 * hour) if status == "closed" else None,
            "reject_reason": "invalid" if status == "rejected" else "",
            "rating": 1 + int(rand() * 5) if status == "closed" else 0, "rating_comment": "",
            "followers": 0, "comments": 0, "merged_into": "",
            "search_text": _document(category[0], address, description),
        }


async def _catalog(url: str) -> _Catalog:
    path = _sqlite_path(url)
    if path:
        with sqlite3.connect(path) as db:
            cats = db.execute("SELECT code, kind, \"group\" FROM categories WHERE active ORDER BY code").fetchall()
            wards = [r[0] for r in db.execute("SELECT code FROM wards ORDER BY code")]
    else:
        import asyncpg

        conn = await asyncpg.connect(_pg_dsn(url))
        try:
            cats = [tuple(r) for r in await conn.fetch('SELECT code, kind, "group" FROM categories WHERE active ORDER BY code')]
            wards = [r[0] for r in await conn.fetch("SELECT code FROM wards ORDER BY code")]
        finally:
            await conn.close()
    if not cats or not wards:
        raise RuntimeError("reports database has no categories or wards (seed step not run?)")
    return _Catalog(cats, wards)


async def seed_reports(url: str, n: int, *, budget_s: float, days: int = 365, seed: int = 8) -> dict:
    """Insert up to n reports spread over the last `days` days; returns rows written and seconds."""
    catalog = await _catalog(url)
    rng = random.Random(seed)
    now = datetime.now(UTC) - timedelta(hours=1)
    t0 = time.monotonic()

    path = _sqlite_path(url)

    def batches():  # noqa: ANN202
        written = 0
        while written < n and time.monotonic() - t0 < budget_s:
            rows = list(_report_rows(catalog, written, min(BATCH, n - written), n, now, days, rng,
                                     _sqlite_ts if path else lambda t: t))
            written += len(rows)
            yield rows

    with ThreadPoolExecutor(1) as pool:
        ahead = _ahead(batches(), pool)
        written = _seed_reports_sqlite(path, n, ahead) if path else await _seed_reports_pg(url, n, ahead)
    return {"rows": written, "requested": n, "seconds": round(time.monotonic() - t0, 1),
            "truncated": written < n, "days": days}


def _ahead(batches, pool: ThreadPoolExecutor):  # noqa: ANN001, ANN202
    """The batches, each next one built in `pool` while the caller writes the current one (sqlite3
    and asyncpg's COPY leave the GIL to it for most of their work)."""
    upcoming = pool.submit(next, batches, None)
    while (rows := upcoming.result()) is not None:
        upcoming = pool.submit(next, batches, None)
        yield rows


def _seed_reports_sqlite(path: Path, n: int, batches) -> int:  # noqa: ANN001
    """executemany per batch (reports + their FTS5 rows), secondary indexes rebuilt at the end."""
    db = sqlite3.connect(path, timeout=60, isolation_level=None)
    written = 0
    try:
        for pragma in ("busy_timeout=60000", "cache_size=-262144", "synchronous=NORMAL"):
            db.execute(f"PRAGMA {pragma}")
        cols = [r[1] for r in db.execute("PRAGMA table_info(reports)")]
        fts = db.execute("SELECT 1 FROM sqlite_master WHERE name='reports_fts'").fetchone() is not None
        existing = db.execute("SELECT count(*) FROM reports").fetchone()[0]
        indexes = db.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='reports' "
                             "AND sql IS NOT NULL").fetchall() if n >= max(10_000, existing) else []
        for name, _ in indexes:
            db.execute(f'DROP INDEX "{name}"')
        try:
            for rows in batches:
                use = [c for c in cols if c in rows[0]]
                sql = f"INSERT INTO reports ({', '.join(use)}) VALUES ({', '.join('?' for _ in use)})"
                pick = operator.itemgetter(*use)
                db.execute("BEGIN IMMEDIATE")
                db.executemany(sql, map(pick, rows))
                if fts:
                    db.executemany("INSERT INTO reports_fts (rowid, report_id, body) VALUES (?, ?, ?)",
                                   [(fts_rowid(r["id"]), r["id"], r["search_text"]) for r in rows])
                db.execute("COMMIT")
                written += len(rows)
        finally:
            for _, sql in indexes:
                db.execute(sql)
        if db.execute("SELECT 1 FROM sqlite_master WHERE name='report_stats_daily'").fetchone():
            db.execute("BEGIN IMMEDIATE")
            for sql in rebuild_sql("sqlite"):
                db.execute(sql)
            db.execute("COMMIT")
    finally:
        db.close()
    return written


async def _seed_reports_pg(url: str, n: int, batches) -> int:  # noqa: ANN001
    """COPY per batch, secondary indexes rebuilt at the end, then VACUUM (ANALYZE)."""
    import asyncpg

    conn = await asyncpg.connect(_pg_dsn(url))
    written = 0
    try:
        cols = [r[0] for r in await conn.fetch(
            "SELECT column_name FROM information_schema.columns WHERE table_name='reports' ORDER BY ordinal_position")]
        existing = await conn.fetchval("SELECT count(*) FROM reports")
        indexes = await conn.fetch(
            "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
            "WHERE x.indrelid = 'reports'::regclass AND NOT x.indisunique") if n >= max(10_000, existing) else []
        for name, _ in indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        try:
            for rows in batches:
                use = [c for c in cols if c in rows[0]]
                await conn.copy_records_to_table("reports", records=[tuple(r[c] for c in use) for r in rows],
                                                 columns=use)
                written += len(rows)
        finally:
            await conn.execute("SET maintenance_work_mem = '256MB'")
            for _, sql in indexes:
                await conn.execute(sql)
        rollup = await conn.fetchval("SELECT to_regclass('report_stats_daily') IS NOT NULL")
        if rollup:
            async with conn.transaction():
                for sql in rebuild_sql("postgresql"):
                    await conn.execute(sql)
        # What autovacuum does shortly after a bulk load (PostgreSQL 13+ vacuums after inserts too):
        # statistics, and the visibility map that index-only scans need.
        await conn.execute("VACUUM (ANALYZE) reports")
        if rollup:
            await conn.execute("VACUUM (ANALYZE) report_stats_daily")
    finally:
        await conn.close()
    return written


async def seed_recipients(url: str, n: int, *, budget_s: float, seed: int = 4) -> dict:
    """Insert up to n citizen recipients (the identity projection notify keeps) in bulk."""
    rng = random.Random(seed)
    wards = [f"{26700 + i:05d}" for i in range(168)]
    t0 = time.monotonic()
    written = 0

    def batch(start: int, count: int) -> list[tuple]:
        return [(f"{RECIPIENT_PREFIX}{i:027d}", "en" if rng.random() < 0.1 else "vi", "citizen", "",
                 wards[rng.randrange(len(wards))]) for i in range(start, start + count)]

    cols = ["user_id", "language", "role", "agency_code", "home_ward_code"]
    path = _sqlite_path(url)
    if path:
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=60000")
            while written < n and time.monotonic() - t0 < budget_s:
                rows = batch(written, min(BATCH * 5, n - written))
                db.execute("BEGIN IMMEDIATE")
                db.executemany(f"INSERT INTO recipients ({', '.join(cols)}) VALUES (?, ?, ?, ?, ?)", rows)
                db.execute("COMMIT")
                written += len(rows)
        finally:
            db.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(_pg_dsn(url))
        try:
            while written < n and time.monotonic() - t0 < budget_s:
                rows = batch(written, min(BATCH * 5, n - written))
                await conn.copy_records_to_table("recipients", records=rows, columns=cols)
                written += len(rows)
            await conn.execute("ANALYZE recipients")
        finally:
            await conn.close()
    return {"rows": written, "requested": n, "seconds": round(time.monotonic() - t0, 1), "truncated": written < n}


async def count(url: str, sql: str) -> int:
    """One integer from a read-only query on a service's database."""
    path = _sqlite_path(url)
    if path:
        with sqlite3.connect(path, timeout=60) as db:
            return int(db.execute(sql).fetchone()[0])
    import asyncpg

    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def rows(url: str, sql: str) -> list[tuple]:
    """All rows of a read-only query on a service's database."""
    path = _sqlite_path(url)
    if path:
        with sqlite3.connect(path, timeout=60) as db:
            return db.execute(sql).fetchall()
    import asyncpg

    conn = await asyncpg.connect(_pg_dsn(url))
    try:
        return [tuple(r) for r in await conn.fetch(sql)]
    finally:
        await conn.close()


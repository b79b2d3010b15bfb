"""Bulk seeding straight into the services' databases (SQLite via sqlite3, PostgreSQL via COPY).

Rows look like what the services write themselves: reports carry `search_text` folded the way
`services.reports.adapters.search.document` folds it (and, on SQLite, a `reports_fts` row); notify
recipients look like the projection of identity's `user_registered`. Seeding stops after the batch
that crosses `budget_s`, and says how many rows it wrote.
"""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.reports.domain.text import fold

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
    return str(uuid.UUID(int=value))


def _sqlite_ts(ts: datetime | None) -> str | None:
    """How SQLAlchemy stores a DateTime on SQLite (naive ISO text, UTC)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if ts else None


class _Catalog:
    def __init__(self, categories: list[tuple[str, str, str]], wards: list[str]):
        self.categories = {c[0]: c for c in categories}
        self.category_list = categories
        self.wards = wards


def _report_rows(catalog: _Catalog, start: int, count: int, total: int, now: datetime, days: int, rng: random.Random):
    """Yield `count` report dicts (row start.. of total), spread evenly over the last `days` days."""
    statuses = [s for s, w in STATUSES for _ in range(w)]
    span = timedelta(days=days).total_seconds()
    reporters = [str(uuid.UUID(int=(0xBE << 120) | i)) for i in range(1000)]
    for i in range(start, start + count):
        submitted = now - timedelta(seconds=span * (total - i) / total + rng.random())
        template, wanted = TEMPLATES[i % len(TEMPLATES)]
        street = STREETS[rng.randrange(len(STREETS))]
        category = catalog.categories.get(wanted) or catalog.category_list[i % len(catalog.category_list)]
        ward = catalog.wards[rng.randrange(len(catalog.wards))]
        status = statuses[rng.randrange(len(statuses))]
        address = f"{rng.randint(1, 400)} {street}"
        description = template.format(street=street)
        resolve_due = submitted + timedelta(hours=rng.choice((24, 72, 120)))
        resolved = submitted + timedelta(hours=rng.uniform(2, 150)) if status in ("resolved", "closed") else None
        yield {
            "id": uuid7_at(submitted, rng), "kind": category[1], "category_code": category[0],
            "category_group": category[2], "description": description,
            "latitude": 10.75 + rng.random() * 0.1, "longitude": 106.65 + rng.random() * 0.1,
            "ward_code": ward, "address": address, "status": status,
            "visibility": "public" if rng.random() < 0.9 else "private", "anonymous": False,
            "reporter_id": reporters[rng.randrange(len(reporters))], "agency_code": f"ubnd_{ward}",
            "agency_name_vi": f"UBND phường {ward}", "agency_name_en": f"Ward {ward} People's Committee",
            "ack_due_at": submitted + timedelta(hours=8), "resolve_due_at": resolve_due,
            "submitted_at": submitted, "updated_at": resolved or submitted, "version": 2,
            "acknowledged_at": submitted + timedelta(hours=1) if status != "assigned" else None,
            "resolved_at": resolved, "closed_at": resolved + timedelta(hours=24) if status == "closed" else None,
            "reject_reason": "invalid" if status == "rejected" else "",
            "rating": rng.randint(1, 5) if status == "closed" else 0, "rating_comment": "",
            "followers": 0, "comments": 0, "merged_into": "",
            "search_text": fold(" ".join([category[0].replace("_", " "), address, description])),
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
    written = 0
    path = _sqlite_path(url)
    if path:
        db = sqlite3.connect(path, timeout=60, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout=60000")
            cols = [r[1] for r in db.execute("PRAGMA table_info(reports)")]
            fts = db.execute("SELECT 1 FROM sqlite_master WHERE name='reports_fts'").fetchone() is not None
            while written < n and time.monotonic() - t0 < budget_s:
                rows = list(_report_rows(catalog, written, min(BATCH, n - written), n, now, days, rng))
                use = [c for c in cols if c in rows[0]]
                sql = f"INSERT INTO reports ({', '.join(use)}) VALUES ({', '.join('?' for _ in use)})"
                ts_cols = {c for c in use if c.endswith("_at")}
                values = [tuple(_sqlite_ts(r[c]) if c in ts_cols else r[c] for c in use) for r in rows]
                db.execute("BEGIN IMMEDIATE")
                db.executemany(sql, values)
                if fts:
                    db.executemany("INSERT INTO reports_fts (report_id, body) VALUES (?, ?)",
                                   [(r["id"], r["search_text"]) for r in rows])
                db.execute("COMMIT")
                written += len(rows)
        finally:
            db.close()
    else:
        import asyncpg

        conn = await asyncpg.connect(_pg_dsn(url))
        try:
            cols = [r[0] for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_name='reports' ORDER BY ordinal_position")]
            while written < n and time.monotonic() - t0 < budget_s:
                rows = list(_report_rows(catalog, written, min(BATCH, n - written), n, now, days, rng))
                use = [c for c in cols if c in rows[0]]
                await conn.copy_records_to_table("reports", records=[tuple(r[c] for c in use) for r in rows],
                                                 columns=use)
                written += len(rows)
            await conn.execute("ANALYZE reports")   # what autovacuum would do shortly after a bulk load
        finally:
            await conn.close()
    return {"rows": written, "requested": n, "seconds": round(time.monotonic() - t0, 1),
            "truncated": written < n, "days": days}


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


"""Async SQLAlchemy engines for the embedded (SQLite) and production (PostgreSQL) modes.

SQLite allows one writer per file. Writers that race for the file lock sleep in SQLite's busy
handler (1..100 ms back-off while the lock is held for ~1 ms), which turned a burst of 64 requests
into a convoy of sleeping connections. So inside a process writers queue on one `asyncio.Lock`
per engine (FIFO, in the event loop) before `BEGIN IMMEDIATE`; `busy_timeout` remains only for
other processes (migrations, bulk seeders). Writing units of work (`WRITE` execution option) begin
IMMEDIATE; every other transaction begins deferred: WAL readers never wait for the writer. SQLite
runs on the event loop's thread (servicekit.sqlite_inline), not on aiosqlite's worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from servicekit.sqlite_inline import InlineConnection

READ_ONLY = "cds_read_only"
"""Execution option: this connection's transactions only read (they cannot commit a unit of work)."""
WRITE = "cds_write"
"""Execution option: a writing unit of work holding the write turn (SQLite: BEGIN IMMEDIATE)."""


class _WriteTurn:
    """An asyncio.Lock that refuses re-entry by its holder (which would wait for itself forever)."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.holder: asyncio.Task | None = None

    async def __aenter__(self) -> None:
        me = asyncio.current_task()
        if me is not None and self.holder is me:
            raise RuntimeError("nested writing unit of work on SQLite: it would wait for itself")
        await self.lock.acquire()
        self.holder = me

    async def __aexit__(self, *exc) -> None:
        self.holder = None
        self.lock.release()


_write_locks: weakref.WeakKeyDictionary[Engine, _WriteTurn] = weakref.WeakKeyDictionary()


def is_sqlite(url: str) -> bool:
    """True for the embedded SQLite mode."""
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, *, pool_size: int = 20) -> AsyncEngine:
    """Create an engine; on SQLite: WAL, inline driver, writers' BEGIN IMMEDIATE and a write turn."""
    if not is_sqlite(url):
        # A fixed pool: opening (TLS negotiation, prepared statements) and closing overflow
        # connections per burst cost more than queueing for one. No pre-ping (a round trip per
        # transaction); connections that died are invalidated on first use and recycled hourly.
        return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=30,
                                   pool_recycle=3600)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0,
                                 async_creator=lambda: InlineConnection.open(database or ":memory:", timeout=5))
    _configure_sqlite(engine)
    _write_locks[engine.sync_engine] = _WriteTurn()
    return engine


def _configure_sqlite(engine: AsyncEngine) -> None:
    """SQLite pragmas, and BEGIN issued by us (the SQLAlchemy-documented recipe for pysqlite)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.isolation_level = None  # let SQLAlchemy's BEGIN below control transactions
        cur = dbapi_conn.cursor()
        # busy_timeout only matters for other processes (migrations, bulk loaders): waiting blocks
        # this process's event loop, so keep it short and let the caller retry.
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=5000", "foreign_keys=ON"):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        # Only a writer holding the turn takes the file lock up front. Anything else (queries, a
        # block under `writer()`) begins deferred: a reader then never waits, even for a writer of
        # this process that is suspended mid-transaction, which would block the event loop's thread.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN")


@contextlib.asynccontextmanager
async def writer(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold this process's write turn on `engine` (SQLite); no-op on PostgreSQL (row locks suffice)."""
    lock = _write_locks.get(engine.sync_engine)
    if lock is None:
        yield
        return
    async with lock:
        yield


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)

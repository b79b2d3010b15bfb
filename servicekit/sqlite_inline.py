"""An aiosqlite-shaped connection that runs SQLite on the event loop's thread.

aiosqlite gives every connection a worker thread and hands each call over to it (cursor, execute,
fetch, close: about four hand-overs per statement). On this 2-core machine under load one
hand-over costs 0.3-1.5 ms of wake-ups and GIL traffic, so SQLAlchemy's `SELECT 1` took 5.5 ms
and a report submission 20-45 ms, nearly all of it waiting for threads, while SQLite itself needs
tens of microseconds per statement. In the embedded mode a process has one writer at a time (see
servicekit.db) and its statements are short, so running them inline is faster than any hand-over;
the loop is blocked only for the statement's own time.

SQLAlchemy's aiosqlite dialect is kept (its SQL compilation, types and pool); only the driver
connection it wraps is this one, passed as `async_creator`. Every coroutine here completes without
suspending, so awaiting it costs a greenlet switch, not a loop iteration.

The exception is a statement that runs long by design (an announcement's 5,000-row INSERT ... SELECT):
inline it would stall every request of the process for its whole time. Inside `offloaded(...)` a
connection runs its statements and commit on a worker thread instead; sqlite3 releases the GIL while
SQLite works, so the loop goes on serving (readers never wait for a writer in WAL mode).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any


class InlineCursor:
    """The cursor API SQLAlchemy's async adapter awaits, over a sqlite3 cursor."""

    __slots__ = ("_cursor", "_owner")

    def __init__(self, cursor: sqlite3.Cursor, owner: InlineConnection):
        self._cursor, self._owner = cursor, owner

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        args = (sql,) if parameters is None else (sql, parameters)
        if self._owner.offload:
            await asyncio.to_thread(self._cursor.execute, *args)
        else:
            self._cursor.execute(*args)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        if self._owner.offload:
            await asyncio.to_thread(self._cursor.executemany, sql, parameters)
        else:
            self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _InlineQueue:
    """Stands in for aiosqlite's queue to its worker thread: runs the call at once."""

    __slots__ = ()

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting caller, as aiosqlite does
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection:
    """The subset of `aiosqlite.Connection` that SQLAlchemy's aiosqlite dialect uses."""

    _tx = _InlineQueue()

    def __init__(self, conn: sqlite3.Connection):
        self._conn: sqlite3.Connection | None = conn
        self.offload = False   # run statements and commit on a worker thread (see `offloaded`)

    @classmethod
    async def open(cls, database: str, **kwargs: Any) -> InlineConnection:
        """Open `database` (a path or ':memory:'); `check_same_thread` is off for the pool's closes."""
        return cls(sqlite3.connect(database, check_same_thread=False, **kwargs))

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._require().isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._require().cursor(), self)

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._require().create_function(*args, **kwargs)

    async def commit(self) -> None:
        if self.offload:
            await asyncio.to_thread(self._require().commit)
        else:
            self._require().commit()

    async def rollback(self) -> None:
        self._require().rollback()

    async def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def stop(self) -> None:
        """Terminate (SQLAlchemy's force close): close without waiting."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn


@contextlib.asynccontextmanager
async def offloaded(session) -> AsyncIterator[None]:  # noqa: ANN001
    """Within the block, `session`'s connection (if it is an InlineConnection) runs its statements and
    commit on a worker thread, so a long statement does not stall the event loop. No-op elsewhere."""
    raw = await (await session.connection()).get_raw_connection()
    driver = getattr(raw, "driver_connection", None)
    if not isinstance(driver, InlineConnection):
        yield
        return
    driver.offload = True
    try:
        yield
    finally:
        driver.offload = False

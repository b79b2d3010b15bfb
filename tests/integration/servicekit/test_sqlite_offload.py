"""A long statement inside `offloaded` runs on a worker thread: the event loop keeps serving."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from servicekit.db import make_engine, session_factory
from servicekit.sqlite_inline import offloaded

# Counts to two million in SQLite's VM: a fraction of a second, with no Python involved.
SLOW = text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000000) "
            "SELECT count(*) FROM n")


async def _ticks_during(session, *, offload: bool) -> tuple[int, int]:  # noqa: ANN001
    """(loop ticks of another task while the statement ran, its result)."""
    ticks = 0
    running = True

    async def ticker() -> None:
        nonlocal ticks
        while running:
            await asyncio.sleep(0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)   # the ticker is waiting on its timer
    before = ticks
    if offload:
        async with offloaded(session):
            value = (await session.execute(SLOW)).scalar_one()
    else:
        value = (await session.execute(SLOW)).scalar_one()
    during = ticks - before
    running = False
    await task
    return during, value


async def test_offloaded_statement_leaves_the_loop_free_and_inline_one_blocks_it(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with session_factory(engine)() as session:
            inline, value = await _ticks_during(session, offload=False)
            assert (inline, value) == (0, 2_000_000)     # inline: not one tick while SQLite counted
            offloaded_ticks, value = await _ticks_during(session, offload=True)
            assert value == 2_000_000
            assert offloaded_ticks >= 3                     # the other task ran meanwhile
            inline_again, _ = await _ticks_during(session, offload=False)
            assert inline_again == 0                        # the flag is cleared after the block
    finally:
        await engine.dispose()

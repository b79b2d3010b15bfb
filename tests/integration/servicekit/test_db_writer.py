"""Units of work on a real database: one writer at a time on SQLite, read-only ones never write."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select

from servicekit.db import make_engine, session_factory
from servicekit.outbox import outbox_table
from servicekit.uow import UnitOfWork

metadata = MetaData()
outbox = outbox_table(metadata)
counter = Table("counter", metadata, Column("id", Integer, primary_key=True),
                Column("value", Integer, nullable=False), Column("note", String(20), nullable=False))


class Uow(UnitOfWork):
    service = "reports"


@pytest.fixture
async def sessions(database_url):
    engine = make_engine(database_url("writer"))
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(counter.insert().values(id=1, value=0, note=""))
    yield session_factory(engine)
    await engine.dispose()


async def _increment(sessions) -> None:  # noqa: ANN001
    async with Uow(sessions, outbox) as uow:
        # FOR UPDATE serialises on PostgreSQL; SQLite ignores it and relies on the writer turn.
        value = await uow.session.scalar(select(counter.c.value).where(counter.c.id == 1).with_for_update())
        await asyncio.sleep(0)  # let the other writers run between the read and the write
        await uow.session.execute(counter.update().where(counter.c.id == 1).values(value=value + 1))
        await uow.commit()


async def test_concurrent_read_modify_write_units_of_work_lose_no_update(sessions):
    await asyncio.gather(*(_increment(sessions) for _ in range(80)))
    async with Uow(sessions, outbox, read_only=True) as uow:
        assert await uow.session.scalar(select(counter.c.value)) == 80


async def test_read_only_unit_of_work_refuses_to_commit_and_changes_nothing(sessions):
    async with Uow(sessions, outbox, read_only=True) as uow:
        await uow.session.execute(counter.update().values(note="sneaky"))
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()
    async with Uow(sessions, outbox, read_only=True) as uow:
        assert await uow.session.scalar(select(counter.c.note)) == ""


async def test_readers_are_not_blocked_by_a_writer_holding_its_turn(sessions):
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow_writer() -> None:
        async with Uow(sessions, outbox) as uow:
            await uow.session.execute(counter.update().values(value=41))
            entered.set()
            await release.wait()
            await uow.commit()

    task = asyncio.create_task(slow_writer())
    await entered.wait()
    async with Uow(sessions, outbox, read_only=True) as uow:  # would wait for the writer if it took a lock
        seen = await asyncio.wait_for(uow.session.scalar(select(counter.c.value)), 5)
    assert seen == 0  # the committed state, not the writer's pending one
    # A plain connection too: on SQLite a locking BEGIN here would block the event loop's thread
    # while the writer it waits for cannot run.
    async with sessions.kw["bind"].connect() as conn:
        assert await conn.scalar(select(counter.c.value)) == 0
    release.set()
    await task
    async with Uow(sessions, outbox, read_only=True) as uow:
        assert await uow.session.scalar(select(func.sum(counter.c.value))) == 41


async def test_nested_writing_unit_of_work_fails_fast_on_sqlite(sessions):
    if sessions.kw["bind"].dialect.name != "sqlite":
        pytest.skip("only SQLite serialises writers in the process; PostgreSQL nests freely")
    async with Uow(sessions, outbox):
        with pytest.raises(RuntimeError, match="nested"):
            async with Uow(sessions, outbox):
                pass

"""`python -m services.<svc> setup` against a real database, and the lock that serialises setups on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit import migrate
from tests.conftest import POSTGRES

ROOT = Path(__file__).resolve().parents[3]


async def _scalar(url: str, sql: str):  # noqa: ANN202
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(text(sql))
    finally:
        await engine.dispose()


def test_setup_migrates_and_seeds_in_one_process_and_can_run_again(database_url):
    url = database_url("routing")
    env = {**os.environ, "ROUTING_DATABASE_URL": url}
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-m", "services.routing", "setup"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert asyncio.run(_scalar(url, "SELECT count(*) FROM alembic_version")) == 1
    assert asyncio.run(_scalar(url, "SELECT count(*) FROM agencies")) > 0


def test_failed_setup_exits_78(tmp_path):
    env = {**os.environ, "NOTIFY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/missing-dir/notify.db"}
    proc = subprocess.run([sys.executable, "-m", "services.notify", "serve", "--setup"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 78, proc.stdout + proc.stderr
    assert "notify: setup failed" in proc.stderr


@pytest.mark.skipif(not POSTGRES, reason="advisory locks exist on PostgreSQL only (CDS_TEST_POSTGRES=1)")
async def test_setups_of_one_database_take_turns_on_postgresql(database_url):
    url = await asyncio.to_thread(database_url, "lock")
    order: list[str] = []

    async def setup(name: str, hold: float) -> None:
        async with migrate.exclusive(url, "reports"):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    first = asyncio.create_task(setup("first", 0.5))
    await asyncio.sleep(0.2)
    await asyncio.gather(first, setup("second", 0))
    assert order == ["first in", "first out", "second in", "second out"]


async def test_sqlite_needs_no_lock(tmp_path):
    async with migrate.exclusive(f"sqlite+aiosqlite:///{tmp_path}/x.db", "reports"):
        async with migrate.exclusive(f"sqlite+aiosqlite:///{tmp_path}/x.db", "reports"):
            pass

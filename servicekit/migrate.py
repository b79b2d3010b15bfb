"""Alembic helpers: one history per service, run programmatically or from a service's env.py.

Alembic (with Mako and Pygments behind it) is imported inside the functions: only the setup
step needs it, and a serving process should not pay for it.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config


def alembic_config(migrations_dir: Path, url: str) -> Config:
    """An Alembic Config for a service's migrations folder and database URL."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Bring the database to `revision` (call outside a running event loop, e.g. via asyncio.to_thread)."""
    from alembic import command

    command.upgrade(alembic_config(migrations_dir, url), revision)


@asynccontextmanager
async def exclusive(url: str, name: str) -> AsyncIterator[None]:
    """Hold a PostgreSQL advisory lock on the database while the block runs, so that replicas
    starting together migrate and seed one after the other; SQLite needs none (one host, and
    SQLite's own file lock serialises the writers)."""
    if make_url(url).get_backend_name() != "postgresql":
        yield
        return
    key = zlib.crc32(f"congdanso-setup:{name}".encode())
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        # AUTOCOMMIT: a session-level lock, without a transaction left open while the others wait.
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        await engine.dispose()


def include_name(metadata: MetaData):  # noqa: ANN201
    """Autogenerate filter: skip tables the migrations manage by hand (metadata.info["unmanaged"]
    holds name prefixes, e.g. SQLite FTS5 virtual tables and their shadow tables)."""
    prefixes = tuple(metadata.info.get("unmanaged", ()))

    def include(name, type_, parent_names) -> bool:  # noqa: ANN001
        return not (type_ in ("table", "index") and prefixes and name and name.startswith(prefixes))

    return include


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py: online migrations on the async engine."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")

    def do_run(connection) -> None:  # noqa: ANN001
        context.configure(connection=connection, target_metadata=metadata, include_name=include_name(metadata),
                          render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as conn:
            await conn.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())

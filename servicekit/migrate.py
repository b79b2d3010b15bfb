"""Alembic helpers: one history per service, run programmatically or from a service's env.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine


def alembic_config(migrations_dir: Path, url: str) -> Config:
    """An Alembic Config for a service's migrations folder and database URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(migrations_dir: Path, url: str, revision: str = "head") -> None:
    """Bring the database to `revision` (call outside a running event loop)."""
    command.upgrade(alembic_config(migrations_dir, url), revision)


def include_name(metadata: MetaData):  # noqa: ANN201
    """Autogenerate filter: skip tables the migrations manage by hand (metadata.info["unmanaged"]
    holds name prefixes, e.g. SQLite FTS5 virtual tables and their shadow tables)."""
    prefixes = tuple(metadata.info.get("unmanaged", ()))

    def include(name, type_, parent_names) -> bool:  # noqa: ANN001
        return not (type_ in ("table", "index") and prefixes and name and name.startswith(prefixes))

    return include


def run_env(metadata: MetaData) -> None:
    """Body of every service's migrations/env.py: online migrations on the async engine."""
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

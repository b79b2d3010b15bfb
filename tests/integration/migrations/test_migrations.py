"""Each service's Alembic history builds an empty database to head, and agrees with its models."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from servicekit import migrate

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ["identity", "reports", "routing", "notify"]


async def _diff_and_tables(url: str, metadata) -> tuple[list, set[str]]:  # noqa: ANN001
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        def check(sync_conn):  # noqa: ANN001, ANN202
            ctx = MigrationContext.configure(sync_conn, opts={"compare_type": True,
                                                              "include_name": migrate.include_name(metadata)})
            return compare_metadata(ctx, metadata), set(inspect(sync_conn).get_table_names())
        result = await conn.run_sync(check)
    await engine.dispose()
    return result


@pytest.mark.parametrize("service", SERVICES)
def test_upgrade_empty_database_to_head_matches_models(service, database_url):
    url = database_url(service)
    migrate.upgrade(ROOT / "services" / service / "migrations", url)
    metadata = importlib.import_module(f"services.{service}.adapters.orm").Base.metadata
    diff, tables = asyncio.run(_diff_and_tables(url, metadata))
    assert diff == []
    assert {"outbox", "inbox", "alembic_version"} <= tables
    assert set(metadata.tables) <= tables
    migrate.upgrade(ROOT / "services" / service / "migrations", url)  # running again is a no-op

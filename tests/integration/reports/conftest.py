"""Fixtures of the reports service-layer tests: a migrated, seeded reports database."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from services.reports.adapters.orm import outbox
from services.reports.adapters.seed import load_reference_data
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork
from servicekit import migrate
from servicekit.db import make_engine, session_factory

ROOT = Path(__file__).resolve().parents[3]


@contextlib.asynccontextmanager
async def reports_database(database_url,  # noqa: ANN001
                           name: str = "reports") -> AsyncIterator[Callable[..., ReportsUnitOfWork]]:
    """A unit-of-work factory on a fresh reports database (migrations + reference data)."""
    url = database_url(name)
    await asyncio.to_thread(migrate.upgrade, ROOT / "services/reports/migrations", url)
    await load_reference_data(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    try:
        yield lambda **kw: ReportsUnitOfWork(sessions, outbox, **kw)
    finally:
        await engine.dispose()


@pytest.fixture
async def uow_factory(database_url):
    """Units of work on a fresh reports database (migrations + reference data)."""
    async with reports_database(database_url) as factory:
        yield factory

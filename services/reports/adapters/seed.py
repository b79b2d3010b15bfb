"""Load reference data (wards, starter categories) into the reports database; safe to rerun."""

from __future__ import annotations

from services.reports.adapters.orm import Category, Ward
from services.reports.domain.attributes import check_definition
from services.reports.seed_data import CATEGORIES, CATEGORY_ATTRIBUTES, hcmc_wards
from servicekit.db import make_engine, session_factory


async def load_reference_data(database_url: str) -> None:
    """Insert missing wards and categories; existing rows (maybe edited by operators) are kept."""
    engine = make_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        for ward in hcmc_wards():
            if await session.get(Ward, ward["code"]) is None:
                session.add(Ward(**ward))
        for cat in CATEGORIES:
            if await session.get(Category, cat["code"]) is None:
                extra = check_definition(CATEGORY_ATTRIBUTES.get(cat["code"], []))
                session.add(Category(active=True, attributes=extra, **cat))
    await engine.dispose()

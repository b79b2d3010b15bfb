"""Load agencies, rules and SLAs into the routing database; safe to rerun."""

from __future__ import annotations

from datetime import UTC, datetime

from services.routing.adapters.orm import Agency, CategoryGroup, RoutingRule, Sla
from services.routing.seed_data import AGENCIES, CATEGORY_GROUPS, RULES, SLA_OVERRIDES, SLAS
from servicekit.db import make_engine, session_factory


async def load_reference_data(database_url: str) -> None:
    """Insert what is missing; rows operators changed are left alone."""
    engine = make_engine(database_url)
    now = datetime.now(UTC)
    async with session_factory(engine)() as session, session.begin():
        for agency in AGENCIES:
            if await session.get(Agency, agency["code"]) is None:
                session.add(Agency(active=True, contact="", **agency))
        for rule in RULES:
            if await session.get(RoutingRule, (rule["id"], 1)) is None:
                session.add(RoutingRule(version=1, active=True, enabled=True, created_at=now, created_by="seed",
                                        **rule))
        for code, kind in CATEGORY_GROUPS.items():
            if await session.get(CategoryGroup, code) is None:
                session.add(CategoryGroup(code=code, kind=kind, active=True))
        for scope, table in (("group", SLAS), ("category", SLA_OVERRIDES)):
            for code, sla in table.items():
                if await session.get(Sla, (scope, code)) is None:
                    session.add(Sla(scope=scope, code=code, **sla))
    await engine.dispose()

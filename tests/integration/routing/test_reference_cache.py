"""Cached reference data (service_layer.reference): rules stay exact even when another replica saves
them, this process's own changes show at once, other replicas' within the cache's TTL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from services.routing.adapters.orm import Agency, CalendarDay, RoutingRule
from services.routing.service_layer import directory, handlers, reference
from services.routing.service_layer.directory import AgencyDraft
from servicekit.db import make_engine, session_factory
from tests.integration.routing.conftest import T0


class Ticking:
    """A monotonic clock for the caches that tests move by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache_clock(monkeypatch):
    clock = Ticking()
    monkeypatch.setattr(reference._tables, "clock", clock)
    monkeypatch.setattr(reference._rules, "clock", clock)
    return clock


async def as_other_replica(env, *rows_or_statements) -> None:  # noqa: ANN001
    """Write through a separate engine and never touch this process's caches (another replica)."""
    engine = make_engine(env.url)
    try:
        async with session_factory(engine)() as session, session.begin():
            for x in rows_or_statements:
                if isinstance(x, RoutingRule | CalendarDay):
                    session.add(x)
                else:
                    await session.execute(x)
    finally:
        await engine.dispose()


async def last_assigned(env):  # noqa: ANN001, ANN201
    return (await env.events("ReportAssigned"))[-1]


async def test_a_rule_saved_by_another_replica_is_used_and_recorded_at_once(env, cache_clock):
    await env.submit("r1", "road_pothole", "roads")
    first = await last_assigned(env)
    assert (first.agency_code, first.rule_id, first.rule_version) == ("so_xd", "r-roads-city", 1)
    await as_other_replica(
        env, update(RoutingRule).where(RoutingRule.id == "r-roads-city").values(active=False),
        RoutingRule(id="r-roads-city", version=2, kind="incident", category_group="roads", agency_code="ubnd_26743",
                    priority=20, active=True, enabled=True, created_at=datetime.now(UTC), created_by="other"))
    await env.submit("r2", "road_pothole", "roads")      # no time passes for the cache
    second = await last_assigned(env)
    assert (second.agency_code, second.rule_id, second.rule_version) == ("ubnd_26743", "r-roads-city", 2)


async def test_an_agency_switched_off_here_gets_no_new_reports_at_once(env, cache_clock):
    await env.submit("r1")
    assert (await last_assigned(env)).agency_code == "thoatnuoc"
    async with env.uow() as uow:
        await directory.update_agency(uow, AgencyDraft(code="thoatnuoc", name_vi="x", name_en="x", kind="utility",
                                                       parent_code="ioc", active=False))
    await env.submit("r2")
    assert (await last_assigned(env)).agency_code == "ioc"


async def test_another_replicas_agency_and_calendar_changes_show_within_the_ttl(env, cache_clock):
    start = T0
    await env.submit("r1")
    async with env.uow() as uow:
        before = (await handlers.deadlines(uow.session, "road_pothole", "roads", start))[1]
    await as_other_replica(env, update(Agency).where(Agency.code == "thoatnuoc").values(active=False),
                           CalendarDay(day=datetime(2026, 3, 4).date(), working=False, note="city day off"))
    await env.submit("r2")
    async with env.uow() as uow:
        stale = (await handlers.deadlines(uow.session, "road_pothole", "roads", start))[1]
    assert (await last_assigned(env)).agency_code == "thoatnuoc" and stale == before   # still cached
    cache_clock.now += reference.CACHE_SECONDS
    await env.submit("r3")
    async with env.uow() as uow:
        fresh = (await handlers.deadlines(uow.session, "road_pothole", "roads", start))[1]
    assert (await last_assigned(env)).agency_code == "ioc"
    assert fresh - before >= timedelta(hours=23)                                        # one working day later

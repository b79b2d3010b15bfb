"""Rules management against a real database: versions, ties, fallbacks, and what assignments record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from services.routing.adapters.orm import Assignment, RoutingRule
from services.routing.domain import errors
from services.routing.service_layer import rule_admin, views
from services.routing.service_layer.rule_admin import RuleDraft
from tests.integration.routing.conftest import BEN_THANH, T0

ROADS_CITY = RuleDraft(id="r-roads-city", agency_code="so_xd", priority=20, kind="incident", category_group="roads")


async def save(env, draft: RuleDraft, expected: int):  # noqa: ANN001, ANN201
    async with env.uow() as uow:
        return await rule_admin.save_rule(uow, draft=draft, expected_version=expected, actor="u-operator")


async def test_a_change_inserts_a_new_version_and_new_assignments_record_it(env):
    await env.submit("r1", "road_pothole", "roads")
    saved = await save(env, RuleDraft(**{**ROADS_CITY.__dict__, "agency_code": "ubnd_26743", "note": "pilot"}), 1)
    assert (saved.version, saved.active, saved.created_by) == (2, True, "u-operator")
    await env.submit("r2", "road_pothole", "roads")
    async with env.uow() as uow:
        versions = (await uow.session.scalars(select(RoutingRule).where(RoutingRule.id == "r-roads-city")
                                              .order_by(RoutingRule.version))).all()
        first, second = await uow.session.get(Assignment, "r1"), await uow.session.get(Assignment, "r2")
        history = await rule_admin.list_rules(uow.session, rule_id="r-roads-city", include_history=True)
    assert [(v.version, v.active, v.agency_code) for v in versions] == [(1, False, "so_xd"), (2, True, "ubnd_26743")]
    assert (first.rule_id, first.rule_version, first.agency_code) == ("r-roads-city", 1, "so_xd")
    assert (second.rule_id, second.rule_version, second.agency_code) == ("r-roads-city", 2, "ubnd_26743")
    assert [r.version for r in history] == [2, 1]


async def test_stale_version_and_duplicate_id_are_refused(env):
    with pytest.raises(errors.RuleVersionConflict):
        await save(env, ROADS_CITY, 7)
    with pytest.raises(errors.RuleExists):
        await save(env, ROADS_CITY, 0)
    with pytest.raises(errors.RuleNotFound):
        await save(env, RuleDraft(id="r-nope", agency_code="ioc"), 1)


async def test_a_rule_that_ties_is_refused_when_saved(env):
    tie = RuleDraft(id="r-roads-ctmt", agency_code="ctmt", priority=20, kind="incident", category_group="roads")
    with pytest.raises(errors.RuleTie, match="r-roads-city"):
        await save(env, tie, 0)
    ok = await save(env, RuleDraft(**{**tie.__dict__, "priority": 21}), 0)
    assert ok.version == 1


@pytest.mark.parametrize(("change", "field"), [
    ({"agency_code": "no_such_agency"}, "agency_code"), ({"ward_codes": frozenset({"99999"})}, "ward_codes"),
    ({"category_group": "nonsense"}, "category_group"), ({"kind": "complaint"}, "kind"), ({"id": "Bad Id"}, "id"),
    ({"priority": 5000}, "priority")])
async def test_invalid_rules_are_refused_with_the_field(env, change, field):
    draft = RuleDraft(**{**RuleDraft(id="r-new", agency_code="so_xd", category_group="roads",
                                     ward_codes=frozenset({BEN_THANH}), priority=5).__dict__, **change})
    with pytest.raises(errors.InvalidRule) as err:
        await save(env, draft, 0)
    assert err.value.field == field


async def test_retiring_the_last_city_wide_rule_of_a_group_is_refused(env):
    retire_fallback = RuleDraft(id="r-fallback", agency_code="ioc", enabled=False)
    retired = await save(env, retire_fallback, 1)  # every group still has its own city-wide rule
    assert (retired.version, retired.enabled) == (2, False)
    with pytest.raises(errors.FallbackMissing, match="roads"):
        await save(env, RuleDraft(**{**ROADS_CITY.__dict__, "enabled": False}), 1)
    narrowed = RuleDraft(**{**ROADS_CITY.__dict__, "ward_codes": frozenset({BEN_THANH})})
    with pytest.raises(errors.FallbackMissing):
        await save(env, narrowed, 1)


async def test_dry_run_explains_winner_runners_up_and_deadlines(env):
    async with env.uow() as uow:
        e = await views.explain(uow.session, kind="incident", category_code="illegal_dumping", category_group="waste",
                                ward_code=BEN_THANH, at=T0)
    assert e.agency.code == "ubnd_26743" and not e.triage
    assert [row.id for row, _ in e.candidates] == ["r-illegal-dumping-ward", "r-waste-city", "r-fallback"]
    assert e.candidates[0][1] == "category, whole city, kind, priority 30"
    assert e.sla.resolve_hours == 16 and e.ack_due_at > T0 and e.resolve_due_at > e.ack_due_at


async def test_dry_run_of_an_unclaimed_group_is_triage(env):
    async with env.uow() as uow:
        e = await views.explain(uow.session, kind="incident", category_code="ufo", category_group="ufo",
                                ward_code=BEN_THANH, at=T0)
    assert e.agency.code == "ioc" and e.triage and e.decision.rule.id == "r-fallback"

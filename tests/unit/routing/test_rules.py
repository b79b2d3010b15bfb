"""The most specific routing rule wins."""

from services.routing.domain.rules import Rule, decide
from services.routing.seed_data import RULES


def rules_from_seed() -> list[Rule]:
    return [Rule(id=r["id"], version=1, agency_code=r["agency_code"], priority=r["priority"], kind=r["kind"],
                 category_code=r["category_code"], category_group=r["category_group"],
                 ward_codes=frozenset(r["ward_codes"]) if r["ward_codes"] is not None else None) for r in RULES]


def route(**kw):  # noqa: ANN003, ANN201
    args = {"kind": "incident", "category_code": "", "category_group": "", "ward_code": "26743", **kw}
    return decide(rules_from_seed(), fallback_agency="ioc", **args)


def test_group_rule_sends_street_lights_to_the_lighting_company():
    d = route(category_code="streetlight_out", category_group="lighting")
    assert d.agency_code == "chieusang" and "group lighting" in d.reason


def test_category_rule_beats_group_rule_and_resolves_to_the_ward_committee():
    d = route(category_code="illegal_dumping", category_group="waste")
    assert d.agency_code == "ubnd_26743" and d.rule.id.startswith("r-illegal-dumping")


def test_ward_scoped_rule_beats_city_wide_rule():
    con_dao = next(r for r in RULES if r["ward_codes"])["ward_codes"][0]
    d = route(category_code="streetlight_out", category_group="lighting", ward_code=con_dao)
    assert d.agency_code == f"ubnd_{con_dao}"


def test_feedback_goes_to_operations_centre_and_unknown_group_to_fallback():
    assert route(kind="feedback", category_code="feedback_service_quality", category_group="feedback").agency_code == "ioc"
    d = route(category_code="x", category_group="unknown")
    assert d.agency_code == "ioc" and d.rule.id == "r-fallback"


def test_no_rule_at_all_means_triage():
    d = decide([], kind="incident", category_code="a", category_group="b", ward_code="", fallback_agency="ioc")
    assert d.rule is None and "triage" in d.reason


def test_ward_agency_rule_is_skipped_without_a_ward():
    rules = [Rule(id="local", version=1, agency_code="@ward", category_group="noise", priority=5),
             Rule(id="city", version=1, agency_code="ca_tphcm", priority=0)]
    d = decide(rules, kind="incident", category_code="n", category_group="noise", ward_code="", fallback_agency="ioc")
    assert d.agency_code == "ca_tphcm"

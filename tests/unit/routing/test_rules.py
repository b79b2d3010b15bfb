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
    feedback = route(kind="feedback", category_code="feedback_service_quality", category_group="feedback")
    assert feedback.agency_code == "ioc"
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


# --- rule-set checks run before a save -------------------------------------------------------

from services.routing.domain.rules import find_ties, uncovered_groups  # noqa: E402
from services.routing.seed_data import CATEGORY_GROUPS  # noqa: E402


def rule(id_: str, agency: str = "ioc", **kw) -> Rule:  # noqa: ANN003
    return Rule(id=id_, version=1, agency_code=agency, **kw)


def test_seed_rules_have_no_ties_and_cover_every_group():
    assert find_ties(rules_from_seed()) == []
    assert uncovered_groups(rules_from_seed(), CATEGORY_GROUPS) == []


def test_same_condition_and_priority_is_a_tie():
    a = rule("a", "so_xd", category_group="roads", kind="incident", priority=20)
    b = rule("b", "ctmt", category_group="roads", kind="incident", priority=20)
    assert find_ties([a, b]) == [(a, b)]


def test_different_priority_or_disjoint_conditions_are_no_tie():
    a = rule("a", category_group="roads", priority=20)
    assert find_ties([a, rule("b", category_group="roads", priority=21)]) == []
    assert find_ties([a, rule("c", category_group="waste", priority=20)]) == []
    assert find_ties([rule("d", ward_codes=frozenset({"26743"})), rule("e", ward_codes=frozenset({"26734"}))]) == []


def test_overlapping_ward_sets_tie_but_a_ward_rule_never_ties_a_city_rule():
    a = rule("a", category_group="noise", ward_codes=frozenset({"26743", "26734"}))
    b = rule("b", category_group="noise", ward_codes=frozenset({"26734"}))
    assert find_ties([a, b]) == [(a, b)]
    assert find_ties([a, rule("c", category_group="noise")]) == []


def test_any_kind_and_a_set_kind_differ_in_specificity():
    assert find_ties([rule("a", category_group="roads"), rule("b", category_group="roads", kind="incident")]) == []


def test_group_without_city_wide_rule_is_uncovered():
    ward_only = rule("w", category_group="roads", kind="incident", ward_codes=frozenset({"26743"}))
    assert uncovered_groups([ward_only], {"roads": "incident"}) == ["roads"]
    assert uncovered_groups([ward_only, rule("c", category_group="roads")], {"roads": "incident"}) == []


def test_category_rules_and_other_kinds_do_not_cover_a_group():
    only_category = rule("c", category_code="road_pothole", category_group="roads")
    feedback_rule = rule("f", kind="feedback")
    assert uncovered_groups([only_category, feedback_rule], {"roads": "incident", "feedback": "feedback"}) == ["roads"]


def test_catch_all_covers_everything_and_marks_triage():
    catch_all = rule("r-fallback")
    assert uncovered_groups([catch_all], CATEGORY_GROUPS) == []
    d = decide([catch_all], kind="incident", category_code="x", category_group="y", ward_code="", fallback_agency="ioc")
    assert d.triage and d.agency_code == "ioc" and "triage" in d.reason


def test_specific_rule_is_not_triage_and_candidates_are_ranked():
    d = route(category_code="illegal_dumping", category_group="waste")
    assert not d.triage
    assert [c.id for c in d.candidates][:2] == ["r-illegal-dumping-ward", "r-waste-city"]
    assert d.candidates[-1].id == "r-fallback"

"""Routing's category groups agree with the reports catalogue (the fallback check relies on them)."""

from services.reports.seed_data import CATEGORIES
from services.routing.seed_data import CATEGORY_GROUPS, SLAS


def test_category_groups_match_the_reports_catalogue():
    assert CATEGORY_GROUPS == {c["group"]: c["kind"] for c in CATEGORIES}


def test_every_category_group_has_an_sla():
    assert set(CATEGORY_GROUPS) <= set(SLAS)

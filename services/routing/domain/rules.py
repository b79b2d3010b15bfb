"""Choosing the responsible agency: the most specific matching rule wins (pure).

Also the checks run before a rule set is saved: no ties, and a city-wide rule for every active
category group.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

WARD_AGENCY = "@ward"


@dataclass(frozen=True)
class Rule:
    id: str
    version: int
    agency_code: str
    priority: int = 0
    kind: str | None = None
    category_code: str | None = None
    category_group: str | None = None
    ward_codes: frozenset[str] | None = None

    def matches(self, kind: str, category_code: str, category_group: str, ward_code: str) -> bool:
        """True when every condition the rule sets holds for the report."""
        if self.kind and self.kind != kind:
            return False
        if self.category_code and self.category_code != category_code:
            return False
        if self.category_group and self.category_group != category_group:
            return False
        if self.ward_codes is not None and ward_code not in self.ward_codes:
            return False
        return not (self.agency_code == WARD_AGENCY and not ward_code)

    def specificity(self) -> tuple[int, int, int, int]:
        """Category beats group beats kind-only; a ward list beats the whole city; then priority."""
        target = 2 if self.category_code else 1 if self.category_group else 0
        return (target, 1 if self.ward_codes is not None else 0, 1 if self.kind else 0, self.priority)

    def is_catch_all(self) -> bool:
        """No condition at all: the last resort, whose reports the operations centre triages."""
        return not (self.kind or self.category_code or self.category_group or self.ward_codes is not None)

    def describe(self) -> str:
        """Human-readable conditions, e.g. 'category flooding, whole city'."""
        what = (f"category {self.category_code}" if self.category_code else
                f"group {self.category_group}" if self.category_group else f"kind {self.kind or 'any'}")
        where = f"wards {sorted(self.ward_codes)}" if self.ward_codes is not None else "whole city"
        return f"{what}, {where}"


@dataclass(frozen=True)
class Decision:
    agency_code: str
    rule: Rule | None
    reason: str
    candidates: tuple[Rule, ...] = ()
    unavailable: bool = False  # the rule's agency is unknown or inactive: sent to the fallback instead

    @property
    def triage(self) -> bool:
        """No specific rule claimed the report (or its agency is away): the operations centre must look."""
        return self.rule is None or self.rule.is_catch_all() or self.unavailable


def ward_committee(ward_code: str) -> str:
    """Agency code of a ward's People's Committee."""
    return f"ubnd_{ward_code}"


def rank(rule: Rule) -> tuple:
    """Sort key: most specific first (the id only makes the order total; saved sets have no ties)."""
    return (rule.specificity(), rule.id)


def decide(rules: list[Rule], *, kind: str, category_code: str, category_group: str, ward_code: str,
           fallback_agency: str) -> Decision:
    """Pick the agency; with no matching rule the operations centre triages the report."""
    candidates = sorted((r for r in rules if r.matches(kind, category_code, category_group, ward_code)),
                        key=rank, reverse=True)
    if not candidates:
        return Decision(fallback_agency, None, "no rule matched: operations centre triage")
    best = candidates[0]
    agency = ward_committee(ward_code) if best.agency_code == WARD_AGENCY else best.agency_code
    reason = f"rule {best.id} v{best.version}: {best.describe()}"
    if best.is_catch_all():
        reason += ": operations centre triage"
    return Decision(agency, best, reason, tuple(candidates))


def _may_overlap(a: Rule, b: Rule) -> bool:
    """Could one report match both rules? (Same specificity is checked by the caller.)"""
    for x, y in ((a.kind, b.kind), (a.category_code, b.category_code), (a.category_group, b.category_group)):
        if x and y and x != y:
            return False
    if a.ward_codes is not None and b.ward_codes is not None and not (a.ward_codes & b.ward_codes):
        return False
    return True


def find_ties(rules: list[Rule]) -> list[tuple[Rule, Rule]]:
    """Pairs of rules that would match one report with equal specificity and priority."""
    return [(a, b) for a, b in combinations(sorted(rules, key=lambda r: r.id), 2)
            if a.specificity() == b.specificity() and _may_overlap(a, b)]


def covers_city_wide(rule: Rule, group: str, kind: str) -> bool:
    """True when the rule routes every report of `group` (of `kind`) from anywhere in the city."""
    return (rule.ward_codes is None and not rule.category_code
            and rule.category_group in (None, "", group) and rule.kind in (None, "", kind))


def uncovered_groups(rules: list[Rule], groups: dict[str, str]) -> list[str]:
    """Active category groups (group -> kind) that no city-wide rule covers."""
    return sorted(g for g, kind in groups.items() if not any(covers_city_wide(r, g, kind) for r in rules))

"""Choosing the responsible agency: the most specific matching rule wins (pure)."""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Decision:
    agency_code: str
    rule: Rule | None
    reason: str


def ward_committee(ward_code: str) -> str:
    """Agency code of a ward's People's Committee."""
    return f"ubnd_{ward_code}"


def decide(rules: list[Rule], *, kind: str, category_code: str, category_group: str, ward_code: str,
           fallback_agency: str) -> Decision:
    """Pick the agency; with no matching rule the operations centre triages the report."""
    candidates = [r for r in rules if r.matches(kind, category_code, category_group, ward_code)]
    if not candidates:
        return Decision(fallback_agency, None, "no rule matched: operations centre triage")
    best = max(candidates, key=lambda r: (r.specificity(), r.id))
    agency = ward_committee(ward_code) if best.agency_code == WARD_AGENCY else best.agency_code
    what = (f"category {best.category_code}" if best.category_code else
            f"group {best.category_group}" if best.category_group else f"kind {best.kind or 'any'}")
    where = f"wards {sorted(best.ward_codes)}" if best.ward_codes is not None else "whole city"
    return Decision(agency, best, f"rule {best.id} v{best.version}: {what}, {where}")

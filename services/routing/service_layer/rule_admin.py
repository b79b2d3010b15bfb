"""Saving routing rules: each save is a new version, checked for ties and city-wide fallbacks."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, replace

from sqlalchemy import select, text

from services.routing.adapters.orm import Agency, CategoryGroup, RoutingRule
from services.routing.domain import errors
from services.routing.domain import rules as rules_mod
from services.routing.service_layer import reference
from services.routing.service_layer.handlers import utcnow

RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
KINDS = frozenset({"incident", "feedback", "proposal"})
WARD = re.compile(r"^\d{5}$")
LOCK_KEY = zlib.crc32(b"routing-rules")


@dataclass(frozen=True)
class RuleDraft:
    """What an operator submits: conditions (None = any), target, priority, enabled, note."""

    id: str
    agency_code: str
    priority: int = 0
    kind: str | None = None
    category_code: str | None = None
    category_group: str | None = None
    ward_codes: frozenset[str] | None = None
    enabled: bool = True
    note: str = ""

    def as_rule(self, version: int) -> rules_mod.Rule:
        """The domain rule this draft would become."""
        return rules_mod.Rule(id=self.id, version=version, agency_code=self.agency_code, priority=self.priority,
                              kind=self.kind, category_code=self.category_code,
                              category_group=self.category_group, ward_codes=self.ward_codes)


async def _lock_rules(session) -> None:  # noqa: ANN001
    """Serialise rule saves so two concurrent saves cannot together create a tie (PostgreSQL).

    SQLite needs nothing: the unit of work's BEGIN IMMEDIATE already makes writers take turns.
    """
    if session.bind.dialect.name == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))


async def _validate(session, draft: RuleDraft) -> None:  # noqa: ANN001
    """Field checks against the agencies, wards and category groups routing knows."""
    if not RULE_ID.match(draft.id):
        raise errors.InvalidRule("id: 2-60 of a-z, 0-9 and '-'", field="id")
    if draft.kind is not None and draft.kind not in KINDS:
        raise errors.InvalidRule("kind must be incident, feedback or proposal", field="kind")
    if not 0 <= draft.priority <= 1000:
        raise errors.InvalidRule("priority must be 0 to 1000", field="priority")
    if draft.category_code is not None and not re.match(r"^[a-z0-9_]{1,60}$", draft.category_code):
        raise errors.InvalidRule("bad category code", field="category_code")
    if draft.category_group is not None and await session.get(CategoryGroup, draft.category_group) is None:
        raise errors.InvalidRule(f"unknown category group {draft.category_group}", field="category_group")
    if draft.agency_code != rules_mod.WARD_AGENCY:
        agency = await session.get(Agency, draft.agency_code)
        if agency is None or not agency.active:
            raise errors.InvalidRule(f"unknown or inactive agency {draft.agency_code}", field="agency_code")
    for ward in sorted(draft.ward_codes or ()):
        if not WARD.match(ward) or await session.get(Agency, rules_mod.ward_committee(ward)) is None:
            raise errors.InvalidRule(f"unknown ward {ward}", field="ward_codes")


async def _check_rule_set(session, rules: list[rules_mod.Rule], changed_id: str) -> None:  # noqa: ANN001
    """Refuse ties involving the changed rule and active groups left without a city-wide rule."""
    ties = [(a, b) for a, b in rules_mod.find_ties(rules) if changed_id in (a.id, b.id)]
    if ties:
        a, b = ties[0]
        other = b if a.id == changed_id else a
        raise errors.RuleTie(f"rule {changed_id} ties with rule {other.id} v{other.version} "
                             f"({other.describe()}, priority {other.priority}): change the priority or conditions")
    groups = {g.code: g.kind for g in (await session.scalars(
        select(CategoryGroup).where(CategoryGroup.active.is_(True)))).all()}
    uncovered = rules_mod.uncovered_groups(rules, groups)
    if uncovered:
        raise errors.FallbackMissing(f"no city-wide rule would remain for group(s) {', '.join(uncovered)}")


async def save_rule(uow, *, draft: RuleDraft, expected_version: int, actor: str,  # noqa: ANN001
                    now=utcnow) -> RoutingRule:  # noqa: ANN001
    """Insert the next version of a rule (version 1 when expected_version is 0) after the checks."""
    draft = replace(draft, note=draft.note.strip()[:300])
    await _lock_rules(uow.session)
    current = await uow.session.scalar(select(RoutingRule).where(RoutingRule.id == draft.id,
                                                                RoutingRule.active.is_(True)).with_for_update())
    if expected_version == 0 and current is not None:
        raise errors.RuleExists(f"rule {draft.id} exists (version {current.version})")
    if expected_version and current is None:
        raise errors.RuleNotFound(f"no rule {draft.id}")
    if current is not None and current.version != expected_version:
        raise errors.RuleVersionConflict(f"rule {draft.id} is at version {current.version}, not {expected_version}")
    await _validate(uow.session, draft)
    version = current.version + 1 if current else 1
    others = [r for r in await reference.load_active_rules(uow.session) if r.id != draft.id]
    await _check_rule_set(uow.session, others + ([draft.as_rule(version)] if draft.enabled else []), draft.id)
    if current is not None:
        current.active = False
        await uow.session.flush()
    row = RoutingRule(id=draft.id, version=version, kind=draft.kind, category_code=draft.category_code,
                      category_group=draft.category_group,
                      ward_codes=sorted(draft.ward_codes) if draft.ward_codes is not None else None,
                      agency_code=draft.agency_code, priority=draft.priority, active=True, enabled=draft.enabled,
                      created_at=now(), created_by=actor[:100], note=draft.note)
    uow.session.add(row)
    await uow.commit()
    reference.forget_cached()
    return row


async def list_rules(session, *, rule_id: str = "", include_history: bool = False,  # noqa: ANN001
                     include_disabled: bool = False) -> list[RoutingRule]:
    """Current rules (optionally every version, or one rule), by id then newest version first."""
    q = select(RoutingRule)
    if rule_id:
        q = q.where(RoutingRule.id == rule_id)
    if not include_history:
        q = q.where(RoutingRule.active.is_(True))
    if not include_disabled:
        q = q.where(RoutingRule.enabled.is_(True))
    rows = (await session.scalars(q)).all()
    return sorted(rows, key=lambda r: (r.id, -r.version))

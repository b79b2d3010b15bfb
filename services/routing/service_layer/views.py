"""Routing queries: an assignment with its clocks and transfers; the dry-run explanation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from services.routing.adapters.orm import Agency, Assignment, RoutingRule, SlaClockRow, TransferRow
from services.routing.domain import rules as rules_mod
from services.routing.service_layer import handlers
from services.routing.service_layer.reference import AgencyInfo, SlaTerms


@dataclass(frozen=True)
class AssignmentView:
    assignment: Assignment
    agency: Agency | None
    clocks: list[SlaClockRow]
    transfers: list[TransferRow]


@dataclass(frozen=True)
class Explanation:
    decision: rules_mod.Decision
    agency: AgencyInfo
    triage: bool
    candidates: list[tuple[RoutingRule, str]]
    sla: SlaTerms
    ack_due_at: datetime
    resolve_due_at: datetime


async def assignment(session, report_id: str) -> AssignmentView | None:  # noqa: ANN001
    """The report's assignment, its agency, clocks (ack, resolve) and transfers in order."""
    a = await session.get(Assignment, report_id)
    if a is None:
        return None
    clocks = (await session.scalars(select(SlaClockRow).where(SlaClockRow.report_id == report_id)
                                    .order_by(SlaClockRow.deadline))).all()
    transfers = (await session.scalars(select(TransferRow).where(TransferRow.report_id == report_id)
                                       .order_by(TransferRow.id))).all()
    return AssignmentView(a, await session.get(Agency, a.agency_code), list(clocks), list(transfers))


def specificity_text(rule: rules_mod.Rule) -> str:
    """'category, wards, kind, priority 30': why a rule ranks where it does."""
    target, wards, kind, priority = rule.specificity()
    parts = [("category", "group", "any category")[2 - target], "wards" if wards else "whole city"]
    if kind:
        parts.append("kind")
    return ", ".join([*parts, f"priority {priority}"])


async def explain(session, *, kind: str, category_code: str, category_group: str, ward_code: str,  # noqa: ANN001
                  at: datetime) -> Explanation:
    """Who would get this report filed at `at`, by which rule, with which deadlines, and the runners-up."""
    decision, agency = await handlers.decide(session, kind=kind, category_code=category_code,
                                             category_group=category_group, ward_code=ward_code)
    rows = {(r.id, r.version): r for r in (await session.scalars(
        select(RoutingRule).where(RoutingRule.active.is_(True)))).all()}
    candidates = [(rows[(c.id, c.version)], specificity_text(c)) for c in decision.candidates]
    sla = await handlers.sla_for(session, category_code, category_group)
    ack, resolve = await handlers.deadlines(session, category_code, category_group, at)
    return Explanation(decision, agency, decision.triage, candidates, sla, ack, resolve)

"""Routing commands: assign a submitted report to an agency with its deadlines."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from congdanso.routing.v1 import events_pb2
from services.routing.adapters.orm import Agency, Assignment, CalendarDay, RoutingRule, Sla
from services.routing.domain import rules as rules_mod
from services.routing.domain.calendar import WorkingCalendar, due_at

IOC = "ioc"
KIND_NAMES = {reports_pb2.REPORT_KIND_INCIDENT: "incident", reports_pb2.REPORT_KIND_FEEDBACK: "feedback",
              reports_pb2.REPORT_KIND_PROPOSAL: "proposal"}
DEFAULT_SLA = Sla(scope="group", code="*", ack_hours=8, resolve_hours=80, calendar="working")


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


async def active_rules(session) -> list[rules_mod.Rule]:  # noqa: ANN001
    """The active version of every rule."""
    rows = (await session.scalars(select(RoutingRule).where(RoutingRule.active.is_(True)))).all()
    return [rules_mod.Rule(id=r.id, version=r.version, agency_code=r.agency_code, priority=r.priority,
                           kind=r.kind, category_code=r.category_code, category_group=r.category_group,
                           ward_codes=frozenset(r.ward_codes) if r.ward_codes is not None else None)
            for r in rows]


async def working_calendar(session) -> WorkingCalendar:  # noqa: ANN001
    """Public holidays plus the city's own days off and make-up days."""
    days = (await session.scalars(select(CalendarDay))).all()
    return WorkingCalendar(days_off=frozenset(d.day for d in days if not d.working),
                           make_up_days=frozenset(d.day for d in days if d.working))


async def sla_for(session, category_code: str, category_group: str) -> Sla:  # noqa: ANN001
    """The category's own SLA if it has one, else its group's, else the default."""
    return (await session.get(Sla, ("category", category_code))
            or await session.get(Sla, ("group", category_group)) or DEFAULT_SLA)


async def decide(session, *, kind: str, category_code: str, category_group: str, ward_code: str):  # noqa: ANN001, ANN201
    """Routing decision; an unknown or inactive agency falls back to the operations centre."""
    decision = rules_mod.decide(await active_rules(session), kind=kind, category_code=category_code,
                                category_group=category_group, ward_code=ward_code, fallback_agency=IOC)
    agency = await session.get(Agency, decision.agency_code)
    if agency is None or not agency.active:
        decision = rules_mod.Decision(IOC, decision.rule, f"{decision.reason}; agency "
                                      f"{decision.agency_code} unavailable: operations centre triage")
        agency = await session.get(Agency, IOC)
    return decision, agency


async def assign_submitted(event, uow) -> None:  # noqa: ANN001
    """reports.v1.report_submitted: decide the agency, compute deadlines, emit report_assigned."""
    msg = event.parse(reports_events.ReportSubmitted)
    if await uow.session.get(Assignment, msg.report_id) is not None:
        return  # already routed (e.g. the same report re-announced): nothing to do
    decision, agency = await decide(uow.session, kind=KIND_NAMES.get(msg.kind, ""), category_code=msg.category_code,
                                    category_group=msg.category_group, ward_code=msg.ward_code)
    sla = await sla_for(uow.session, msg.category_code, msg.category_group)
    calendar = await working_calendar(uow.session)
    now = datetime.now(UTC)
    assignment = Assignment(
        report_id=msg.report_id, agency_code=agency.code, rule_id=decision.rule.id if decision.rule else "",
        rule_version=decision.rule.version if decision.rule else 0, reason=decision.reason[:300],
        category_code=msg.category_code, ward_code=msg.ward_code, assigned_at=now,
        ack_due_at=due_at(calendar, now, sla.ack_hours, sla.calendar),
        resolve_due_at=due_at(calendar, now, sla.resolve_hours, sla.calendar),
        triage=decision.rule is None or agency.code == IOC and decision.agency_code != IOC,
    )
    uow.session.add(assignment)
    uow.emit(events_pb2.ReportAssigned(
        report_id=msg.report_id, agency_code=agency.code,
        agency_name=common_pb2.LocalizedText(vi=agency.name_vi, en=agency.name_en),
        rule_id=assignment.rule_id, rule_version=assignment.rule_version,
        ack_due_at=_ts(assignment.ack_due_at), resolve_due_at=_ts(assignment.resolve_due_at),
        triage=assignment.triage))

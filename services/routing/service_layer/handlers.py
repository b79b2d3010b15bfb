"""Routing commands: assign submitted reports, follow their status, transfer them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from congdanso.routing.v1 import events_pb2
from services.routing.adapters import assignment_rows
from services.routing.adapters.orm import Agency, Assignment, TransferRow
from services.routing.domain import errors
from services.routing.domain import rules as rules_mod
from services.routing.domain import sla as sla_mod
from services.routing.domain.calendar import due_at
from services.routing.service_layer import reference
from services.routing.service_layer.clocks import (IOC, start_clocks, start_new_clocks, stop_clocks, stop_many_clocks,
                                                   ts)
from services.routing.service_layer.reference import AgencyInfo, active_rules, sla_for, working_calendar
from servicekit.auth import Principal
from servicekit.events import ReceivedEvent
from servicekit.inbox import consuming

log = logging.getLogger(__name__)
MAX_TRANSFERS = 3
FINISHED = frozenset({"resolved", "closed", "rejected", "withdrawn"})
REOPEN_ROLES = frozenset({"reporter", "citizen"})
KIND_NAMES = {reports_pb2.REPORT_KIND_INCIDENT: "incident", reports_pb2.REPORT_KIND_FEEDBACK: "feedback",
              reports_pb2.REPORT_KIND_PROPOSAL: "proposal"}
Clock = Callable[[], datetime]


class Routed(NamedTuple):
    """A submitted report's assignment (its columns) and the decision behind it."""

    msg: reports_events.ReportSubmitted
    assignment: dict[str, Any]
    decision: rules_mod.Decision
    agency: AgencyInfo


def utcnow() -> datetime:
    """The current instant (handlers take a clock so tests can pin time)."""
    return datetime.now(UTC)


def status_name(value: int) -> str:
    """REPORT_STATUS_IN_PROGRESS -> "in_progress"."""
    return reports_pb2.ReportStatus.Name(value).removeprefix("REPORT_STATUS_").lower()


async def deadlines(session, category_code: str, category_group: str,  # noqa: ANN001
                    start: datetime) -> tuple[datetime, datetime]:
    """(ack due, resolve due) for a report of this category handed over at `start`, in UTC."""
    sla = await sla_for(session, category_code, category_group)
    calendar = await working_calendar(session)
    return (due_at(calendar, start, sla.ack_hours, sla.calendar).astimezone(UTC),
            due_at(calendar, start, sla.resolve_hours, sla.calendar).astimezone(UTC))


async def decide(session, *, kind: str, category_code: str, category_group: str,  # noqa: ANN001
                 ward_code: str) -> tuple[rules_mod.Decision, AgencyInfo]:
    """Routing decision; an unknown or inactive agency falls back to the operations centre."""
    return await _decide(session, await active_rules(session), kind=kind, category_code=category_code,
                         category_group=category_group, ward_code=ward_code)


async def _decide(session, rules: list[rules_mod.Rule], *, kind: str, category_code: str,  # noqa: ANN001
                  category_group: str, ward_code: str) -> tuple[rules_mod.Decision, AgencyInfo]:
    """`decide` with the active rules given (a batch reads them once)."""
    decision = rules_mod.decide(rules, kind=kind, category_code=category_code, category_group=category_group,
                                ward_code=ward_code, fallback_agency=IOC)
    agency = await reference.agency(session, decision.agency_code)
    if agency is None or not agency.active:
        decision = rules_mod.Decision(IOC, decision.rule, f"{decision.reason}; agency "
                                      f"{decision.agency_code} unavailable: operations centre triage",
                                      decision.candidates, unavailable=True)
        agency = await reference.agency(session, IOC)
    return decision, agency


def _assigned_event(a: Mapping[str, Any], agency: AgencyInfo, *,
                    reopened: bool = False) -> events_pb2.ReportAssigned:
    """report_assigned for an assignment's columns."""
    return events_pb2.ReportAssigned(
        report_id=a["report_id"], agency_code=agency.code,
        agency_name=common_pb2.LocalizedText(vi=agency.name_vi, en=agency.name_en), rule_id=a["rule_id"],
        rule_version=a["rule_version"], ack_due_at=ts(a["ack_due_at"]), resolve_due_at=ts(a["resolve_due_at"]),
        triage=a["triage"], reopened=reopened)


async def _route(session, msg: reports_events.ReportSubmitted, rules: list[rules_mod.Rule],  # noqa: ANN001
                 now: Clock) -> Routed:
    """The assignment of a submitted report (its columns), and why; nothing is written."""
    kind = KIND_NAMES.get(msg.kind, "")
    decision, agency = await _decide(session, rules, kind=kind, category_code=msg.category_code,
                                     category_group=msg.category_group, ward_code=msg.ward_code)
    at = now()
    ack_due, resolve_due = await deadlines(session, msg.category_code, msg.category_group, at)
    assignment = {
        "report_id": msg.report_id, "agency_code": agency.code, "rule_id": decision.rule.id if decision.rule else "",
        "rule_version": decision.rule.version if decision.rule else 0, "reason": decision.reason[:300],
        "category_code": msg.category_code, "category_group": msg.category_group, "kind": kind,
        "ward_code": msg.ward_code, "assigned_at": at, "ack_due_at": ack_due, "resolve_due_at": resolve_due,
        "transfers": 0, "triage": decision.triage, "report_status": "assigned"}
    return Routed(msg, assignment, decision, agency)


def _announce(uow, routed: Routed) -> None:  # noqa: ANN001
    """report_assigned for a new assignment, and the triage alert when no agency claimed it."""
    msg, decision = routed.msg, routed.decision
    uow.emit(_assigned_event(routed.assignment, routed.agency))
    if decision.triage:
        log.warning("report needs triage", extra={"report_id": msg.report_id, "category": msg.category_code,
                                                  "ward": msg.ward_code, "reason": decision.reason})
        uow.emit(events_pb2.TriageNeeded(report_id=msg.report_id, category_code=msg.category_code,
                                         category_group=msg.category_group, ward_code=msg.ward_code,
                                         reason=decision.reason[:300]))


async def assign_submitted(event, uow, now: Clock = utcnow) -> None:  # noqa: ANN001
    """reports.v1.report_submitted: decide the agency, start the clocks, emit report_assigned."""
    msg = event.parse(reports_events.ReportSubmitted)
    routed = await _route(uow.session, msg, await active_rules(uow.session), now)
    # Insert-if-absent instead of a look-up first: one statement per report. The decision above
    # reads and writes nothing, so computing it for a duplicate costs only CPU.
    conn = await uow.session.connection()
    if not await assignment_rows.insert_new_assignment(conn, routed.assignment):
        return  # already routed (e.g. the same report re-announced): nothing to do
    a = routed.assignment
    await start_clocks(conn, msg.report_id, a["agency_code"], a["assigned_at"], a["ack_due_at"],
                       a["resolve_due_at"], new=True)
    _announce(uow, routed)


async def assign_submitted_batch(events: list[ReceivedEvent], uow, now: Clock = utcnow) -> None:  # noqa: ANN001
    """`assign_submitted` of each event in order, with one insert of the assignments and one of the
    clocks. The rules fingerprint is read once for the batch (one by one, PostgreSQL reads it per report)."""
    rules = await active_rules(uow.session)
    routed: dict[str, tuple[ReceivedEvent, Routed]] = {}
    for event in events:
        msg = event.parse(reports_events.ReportSubmitted)
        if msg.report_id not in routed:  # a later announcement of the same report finds it routed
            routed[msg.report_id] = (event, await _route(uow.session, msg, rules, now))
    conn = await uow.session.connection()
    new = await assignment_rows.insert_new_assignments(conn, [r.assignment for _, r in routed.values()])
    await start_new_clocks(conn, [r.assignment for _, r in routed.values() if r.msg.report_id in new])
    for event, r in routed.values():
        if r.msg.report_id in new:
            with consuming(event, batch=len(events)):
                _announce(uow, r)


def _is_reopen(msg: reports_events.ReportStatusChanged) -> bool:
    """A resident reopening a resolved report (it is reassigned)."""
    return (status_name(msg.from_status) == "resolved" and status_name(msg.to_status) == "assigned"
            and msg.actor_role in REOPEN_ROLES)


def _stopping(status: str) -> tuple[str, ...]:
    """The clocks a report's new status stops: acknowledging stops the ack clock, finishing both."""
    if status == "in_progress":
        return (sla_mod.ACK,)
    return (sla_mod.ACK, sla_mod.RESOLVE) if status in FINISHED else ()


async def apply_status_change(event, uow, now: Clock = utcnow) -> None:  # noqa: ANN001
    """reports.v1.report_status_changed: stop clocks on ack/finish; a resident's reopen reassigns."""
    msg = event.parse(reports_events.ReportStatusChanged)
    after = status_name(msg.to_status)
    conn = await uow.session.connection()
    if _is_reopen(msg):
        await _reassign_reopened(uow, conn, msg.report_id, now())
    elif stopping := _stopping(after):
        # the status first: writing it tells whether the assignment exists, and locks it
        if not await assignment_rows.record_status(conn, msg.report_id, after):
            raise errors.AssignmentNotYetKnown(msg.report_id)  # the submission is still on its way: retry
        await stop_clocks(conn, msg.report_id, stopping, now())
    else:
        # only the recorded status changes (a report not assigned yet has none: nothing to do)
        await assignment_rows.set_status(conn, msg.report_id, after)


async def apply_status_changes(events: list[ReceivedEvent], uow, now: Clock = utcnow) -> None:  # noqa: ANN001
    """`apply_status_change` of each event in order: the changes between reopens set-based, a
    reopen (rare: a resident unhappy with a resolution) by the per-event handler."""
    run: list[reports_events.ReportStatusChanged] = []
    for event in events:
        msg = event.parse(reports_events.ReportStatusChanged)
        if not _is_reopen(msg):
            run.append(msg)
            continue
        await _apply_run(uow, run, now)
        run = []
        with consuming(event, batch=len(events)):
            await apply_status_change(event, uow, now)
    await _apply_run(uow, run, now)


async def _apply_run(uow, run: list[reports_events.ReportStatusChanged], now: Clock) -> None:  # noqa: ANN001
    """Status changes without reopens: a report's last status is recorded, each clock stops at the
    first change that stops it; raises AssignmentNotYetKnown as the per-event handler would."""
    if not run:
        return
    conn = await uow.session.connection()
    recorded = await assignment_rows.statuses_for_update(conn, {m.report_id for m in run})
    statuses, stops = {}, []
    for msg in run:
        after = status_name(msg.to_status)
        if stopping := _stopping(after):
            if msg.report_id not in recorded:
                raise errors.AssignmentNotYetKnown(msg.report_id)  # the submission is still on its way: retry
            stops.append((msg.report_id, stopping, now()))
        if msg.report_id in recorded:
            statuses[msg.report_id] = after
    await assignment_rows.set_statuses(conn, {r: s for r, s in statuses.items() if s != recorded[r]})
    await stop_many_clocks(conn, stops)


async def _reassign_reopened(uow, conn, report_id: str, at: datetime) -> None:  # noqa: ANN001
    """Same agency, fresh deadlines from now, report_assigned again."""
    a = await assignment_rows.assignment_for_update(conn, report_id)
    if a is None:
        raise errors.AssignmentNotYetKnown(report_id)  # the submission is still on its way: retry
    agency = await reference.agency(uow.session, a.agency_code)
    ack_due, resolve_due = await deadlines(uow.session, a.category_code, a.category_group, at)
    changes = {"assigned_at": at, "ack_due_at": ack_due, "resolve_due_at": resolve_due, "report_status": "assigned"}
    await assignment_rows.update_assignment(conn, report_id, **changes)
    await start_clocks(conn, report_id, a.agency_code, at, ack_due, resolve_due)
    uow.emit(_assigned_event({**a._mapping, **changes}, agency, reopened=True))


def _check_transfer_request(principal: Principal, a: Assignment, to_code: str, reason: str) -> None:
    """Who may transfer, and whether the report can still move."""
    if principal.role in ("officer", "agency_admin") and principal.agency_code != a.agency_code:
        raise errors.NotYourAgency("only the assigned agency can transfer this report")
    if not 5 <= len(reason) <= 500:
        raise errors.InvalidTransfer("a reason of 5 to 500 characters is required", field="reason")
    if a.report_status in FINISHED:
        raise errors.NotTransferable(f"the report is {a.report_status}")
    if to_code == a.agency_code:
        raise errors.InvalidTransfer("the report is already assigned to this agency", field="to_agency_code")


async def transfer_report(uow, *, principal: Principal, report_id: str,  # noqa: ANN001
                          to_agency_code: str, reason: str, now: Clock = utcnow) -> Assignment:
    """Hand the report to another agency with fresh deadlines; after 3 transfers it goes to the IOC."""
    reason = reason.strip()
    a = await uow.session.get(Assignment, report_id, with_for_update=True)
    if a is None:
        raise errors.AssignmentNotFound("no assignment for this report")
    _check_transfer_request(principal, a, to_agency_code, reason)
    requested = await uow.session.get(Agency, to_agency_code)
    if requested is None or not requested.active:
        raise errors.InvalidTransfer("unknown or inactive agency", field="to_agency_code")
    redirected = principal.role != "operator" and a.transfers >= MAX_TRANSFERS
    target = await uow.session.get(Agency, IOC) if redirected else requested
    if target.code == a.agency_code:
        raise errors.NotTransferable("transfer limit reached: the operations centre decides",
                                     code="transfer_limit_reached")
    at = now()
    uow.session.add(TransferRow(report_id=a.report_id, from_agency_code=a.agency_code, to_agency_code=target.code,
                                requested_agency_code=requested.code, reason=reason, actor_id=principal.user_id,
                                actor_role=principal.role, at=at))
    from_code = a.agency_code
    a.agency_code, a.transfers, a.assigned_at, a.report_status = target.code, a.transfers + 1, at, "assigned"
    a.triage = redirected
    a.reason = (f"transferred from {from_code}" + (" (transfer limit: operations centre)" if redirected else ""))
    a.ack_due_at, a.resolve_due_at = await deadlines(uow.session, a.category_code, a.category_group, at)
    await start_clocks(await uow.session.connection(), a.report_id, a.agency_code, at, a.ack_due_at,
                       a.resolve_due_at)
    uow.emit(events_pb2.ReportTransferred(
        report_id=a.report_id, from_agency_code=from_code, to_agency_code=target.code, reason=reason,
        resolve_due_at=ts(a.resolve_due_at), ack_due_at=ts(a.ack_due_at),
        to_agency_name=common_pb2.LocalizedText(vi=target.name_vi, en=target.name_en), transfer_count=a.transfers,
        requested_agency_code=requested.code, actor_role=principal.role))
    await uow.commit()
    return a

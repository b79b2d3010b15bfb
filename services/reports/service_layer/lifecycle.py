"""Report transitions (DESIGN.md §5) by people and by routing's events, each with a timeline entry
and a report_status_changed event; plus the durable auto-close of resolved reports."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import events_pb2
from congdanso.routing.v1 import events_pb2 as routing_events
from services.reports.adapters import rows
from services.reports.adapters.orm import Report, TimelineEntry
from services.reports.domain import model
from services.reports.domain.errors import ReportNotFound
from services.reports.service_layer.handlers import STATUS_PB
from servicekit.auth import Principal
from servicekit.errors import Conflict, InvalidArgument, PermissionDenied
from servicekit.events import new_id
from servicekit.inbox import consuming
from servicekit.protoutil import timestamp

log = logging.getLogger(__name__)
A, S = model.Action, model.Status
REJECT_REASONS = ("duplicate", "out_of_scope", "invalid", "spam")
REOPEN_WINDOW = timedelta(days=7)
NOTE_MAX = 2000


@dataclass(frozen=True)
class Transition:
    report_id: str
    action: model.Action
    note: str = ""
    reason: str = ""
    expected_version: int = 0


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def actor_of(report: Report, principal: Principal, action: model.Action) -> str:
    """The role a person acts in on this report; officers only for their own agency."""
    if principal.role == "citizen":
        if principal.user_id != report.reporter_id:
            raise PermissionDenied("only the reporter may do this", code="not_reporter")
        return "reporter"
    if principal.role in ("officer", "agency_admin", "client") and principal.agency_code != report.agency_code:
        raise PermissionDenied("the report is assigned to another agency", code="other_agency")
    if principal.role == "client":
        # An agency's own system (Open311 servicerequestupdates) acts as that agency's officer.
        if "reports:write" not in principal.scopes:
            raise PermissionDenied("the client lacks the reports:write scope", code="scope_missing")
        return "officer"
    return principal.role


def _check_inputs(cmd: Transition, report: Report, now: datetime) -> str:
    """Action-specific rules: resolve needs a note, reject a known reason, reopen the 7-day window."""
    note = model.clean_text(cmd.note, field="note", minimum=0, maximum=NOTE_MAX)
    if cmd.action == A.RESOLVE and not note:
        raise InvalidArgument("resolving needs a note saying what was done", code="note_required", field="note")
    if cmd.action == A.REJECT and cmd.reason not in REJECT_REASONS:
        raise InvalidArgument(f"reason must be one of {', '.join(REJECT_REASONS)}", code="invalid_reason",
                              field="reason")
    if cmd.action == A.REOPEN and report.resolved_at and now - _aware(report.resolved_at) > REOPEN_WINDOW:
        raise PermissionDenied("a report can be reopened within 7 days of resolution", code="reopen_window_passed")
    return note


async def transition(cmd: Transition, uow, principal: Principal) -> Report:  # noqa: ANN001
    """Apply a person's action to a report."""
    report = await uow.session.get(Report, cmd.report_id)
    if report is None or (report.visibility == "private" and principal.role == "citizen"
                          and principal.user_id != report.reporter_id):
        raise ReportNotFound("report not found")
    if cmd.expected_version and cmd.expected_version != report.version:
        raise Conflict("the report changed meanwhile; reload it", code="version_conflict")
    actor = actor_of(report, principal, cmd.action)
    now = _now()
    note = _check_inputs(cmd, report, now)
    await apply(uow, report, cmd.action, actor=actor, actor_id=principal.user_id, note=note, reason=cmd.reason, at=now)
    await uow.commit()
    return report


async def apply(uow, report: Report, action: model.Action, *, actor: str, actor_id: str = "",  # noqa: ANN001, PLR0913
                note: str = "", reason: str = "", at: datetime) -> None:
    """Move the report, stamp the times, append the timeline entry and emit report_status_changed."""
    before = model.Status(report.status)
    after = model.next_status(before, action, actor)
    report.status, report.updated_at = after, at
    stamps = {A.ACKNOWLEDGE: "acknowledged_at", A.RESOLVE: "resolved_at", A.CONFIRM: "closed_at",
              A.AUTO_CLOSE: "closed_at"}
    if action in stamps:
        setattr(report, stamps[action], at)
    if action == A.REJECT:
        report.reject_reason = reason
    if action == A.REOPEN:
        report.resolved_at = None
    role = "citizen" if actor == "reporter" else actor
    uow.session.add(TimelineEntry(id=new_id(), report_id=report.id, status=after, action=action.value,
                                  actor_id=actor_id, actor_role=role, note=note or reason, at=at))
    await uow.session.flush()  # bumps report.version (optimistic concurrency) before the event carries it
    uow.emit(status_changed(report, before, action, role, note=note, reason=reason))


def status_changed(report: Report, before: model.Status, action: model.Action, role: str, *,
                   note: str = "", reason: str = "") -> events_pb2.ReportStatusChanged:
    """The event other services react to (routing stops clocks, notify tells people); `report` may be
    any object with the Report attributes it reads (apply_assignment passes the row's values)."""
    return events_pb2.ReportStatusChanged(
        report_id=report.id, from_status=STATUS_PB[before], to_status=STATUS_PB[model.Status(report.status)],
        reporter_id=report.reporter_id, agency_code=report.agency_code, actor_role=role, note=note[:500],
        resolve_due_at=timestamp(report.resolve_due_at), version=report.version,
        category_code=report.category_code, action=action.value, reason=reason, ward_code=report.ward_code or "",
        category_group=report.category_group, kind=report.kind,
        agency_name=common_pb2.LocalizedText(vi=report.agency_name_vi, en=report.agency_name_en))


async def apply_assignment(event, uow) -> None:  # noqa: ANN001
    """routing.v1.report_assigned: the agency and due times (first routing, or again after a reopen).

    Every report passes here once, so it reads only the columns it needs and writes with Core
    statements (adapters/rows.py: version check and roll-up as on the ORM path) instead of `apply`."""
    msg = event.parse(routing_events.ReportAssigned)
    connection = await uow.session.connection()
    report = await rows.read_for_assignment(connection, msg.report_id)
    if report is None:
        raise LookupError(f"report {msg.report_id} not found")  # retried, then dead-lettered
    now = _now()
    changes = _assignment(msg, report, now)
    if changes is None:
        return
    version = await rows.update_report(connection, uow.session, report, changes)
    after = {**report, **changes, "version": version}
    await rows.insert_timeline(connection, _assignment_entry(msg, report, after))
    _emit_assigned(uow, msg, report, after)


async def apply_assignments(events: list, uow) -> None:  # noqa: ANN001
    """apply_assignment for a batch in stream order (servicekit.inbox.BatchHandler), with the same
    effect: per run of events for distinct reports, one locked read, one UPDATE and one timeline INSERT.
    A report assigned twice (a reopen between) starts a new run, which reads what the last one wrote."""
    runs, run_ids = [[]], set()
    for event in events:
        msg = event.parse(routing_events.ReportAssigned)
        if msg.report_id in run_ids:
            runs.append([])
            run_ids.clear()
        runs[-1].append((event, msg))
        run_ids.add(msg.report_id)
    for run in runs:
        await _assign_run(run, uow, batch=len(events))


async def _assign_run(run: list, uow, *, batch: int) -> None:  # noqa: ANN001
    """Each event's part (decision, timeline row, emit) in its own span; then the run's statements."""
    connection = await uow.session.connection()
    reports = await rows.lock_for_assignment(connection, [msg.report_id for _, msg in run])
    now = _now()
    updates, entries = [], []
    for event, msg in run:
        report = reports.get(msg.report_id)
        if report is None:   # the batch rolls back; one by one, this event is retried, then dead-lettered
            raise LookupError(f"report {msg.report_id} not found")
        with consuming(event, batch=batch):
            changes = _assignment(msg, report, now)
            if changes is None:
                continue
            after = {**report, **changes, "version": report["version"] + 1}   # as update_reports sets it
            updates.append((report, changes))
            entries.append(_assignment_entry(msg, report, after))
            _emit_assigned(uow, msg, report, after)
    if updates:
        await rows.update_reports(connection, uow.session, updates)
        await rows.insert_timeline(connection, entries)


def _assignment(msg: routing_events.ReportAssigned, report: dict, now: datetime) -> dict | None:
    """The report's changes (status always among them), or None (logged) when it awaits no assignment."""
    status = model.Status(report["status"])
    if status not in model.TRANSITIONS[A.ASSIGN][0] and not (status == S.IN_PROGRESS
                                                             and msg.agency_code == report["agency_code"]):
        log.info("assignment ignored: report not awaiting one", extra={"report_id": report["id"]})
        return None
    return {"agency_code": msg.agency_code, "agency_name_vi": msg.agency_name.vi,
            "agency_name_en": msg.agency_name.en,
            "ack_due_at": msg.ack_due_at.ToDatetime(UTC) if msg.HasField("ack_due_at") else None,
            "resolve_due_at": msg.resolve_due_at.ToDatetime(UTC) if msg.HasField("resolve_due_at") else None,
            "updated_at": now,
            # A reopened report's fresh deadlines may arrive after the officer already took it up again.
            "status": status if status == S.IN_PROGRESS else model.next_status(status, A.ASSIGN, "system")}


def _assignment_entry(msg: routing_events.ReportAssigned, report: dict, after: dict) -> dict:
    """The timeline row of an assignment ("deadline" when only the due times change)."""
    action = "deadline" if report["status"] == S.IN_PROGRESS else A.ASSIGN.value
    return {"id": new_id(), "report_id": report["id"], "status": after["status"], "action": action,
            "actor_id": "", "actor_role": "system", "note": msg.agency_code, "at": after["updated_at"]}


def _emit_assigned(uow, msg: routing_events.ReportAssigned, report: dict, after: dict) -> None:  # noqa: ANN001
    if report["status"] != S.IN_PROGRESS:
        uow.emit(status_changed(SimpleNamespace(**after), model.Status(report["status"]), A.ASSIGN, "system",
                                note=msg.agency_code))


async def apply_transfer(event, uow) -> None:  # noqa: ANN001
    """routing.v1.report_transferred: the report now belongs to another agency, with new deadlines."""
    msg = event.parse(routing_events.ReportTransferred)
    report = await uow.session.get(Report, msg.report_id)
    if report is None:
        raise LookupError(f"report {msg.report_id} not found")
    if model.Status(report.status) not in (S.ASSIGNED, S.IN_PROGRESS):
        log.info("transfer ignored: report no longer open", extra={"report_id": report.id})
        return
    report.agency_code = msg.to_agency_code
    report.agency_name_vi, report.agency_name_en = msg.to_agency_name.vi, msg.to_agency_name.en
    if msg.HasField("resolve_due_at"):
        report.resolve_due_at = msg.resolve_due_at.ToDatetime(UTC)
    report.acknowledged_at = None
    await apply(uow, report, A.TRANSFER, actor="system", note=msg.reason, at=_now())


async def apply_escalation(event, uow) -> None:  # noqa: ANN001
    """routing.v1.report_escalated: record the breach on the timeline (the state does not change)."""
    msg = event.parse(routing_events.ReportEscalated)
    report = await uow.session.get(Report, msg.report_id)
    if report is None:
        raise LookupError(f"report {msg.report_id} not found")
    report.updated_at = _now()
    uow.session.add(TimelineEntry(
        id=new_id(), report_id=report.id, status=report.status, action="escalate", actor_role="system",
        note=f"{msg.deadline or 'deadline'} missed: escalated to {msg.escalated_to_agency_code}", at=report.updated_at))


async def close_expired(uow_factory, *, now: datetime | None = None, batch: int = 100) -> int:  # noqa: ANN001
    """Close resolved reports nobody answered within 7 days; each once (state guard + version)."""
    cutoff = (now or _now()) - REOPEN_WINDOW
    async with uow_factory(read_only=True) as uow:
        ids = list((await uow.session.scalars(
            select(Report.id).where(Report.status == S.RESOLVED, Report.resolved_at <= cutoff)
            .order_by(Report.resolved_at).limit(batch))).all())
    closed = 0
    for report_id in ids:
        async with uow_factory() as uow:
            report = await uow.session.get(Report, report_id)
            if report is None or report.status != S.RESOLVED:
                continue
            try:
                await apply(uow, report, A.AUTO_CLOSE, actor="system", note="", at=now or _now())
                await uow.commit()
                closed += 1
            except Exception:  # noqa: BLE001 - a concurrent change won; the next round looks again
                log.info("auto-close skipped", extra={"report_id": report_id})
    return closed

"""RoutingService gRPC servicer: proto <-> handlers and views, nothing else."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from sqlalchemy import select

from congdanso.common.v1 import common_pb2
from congdanso.routing.v1 import routing_pb2, routing_pb2_grpc
from services.routing.adapters.orm import Agency, RoutingRule
from services.routing.domain import errors
from services.routing.service_layer import directory, handlers, rule_admin, views
from services.routing.service_layer.clocks import ts
from servicekit.auth import require_principal
from servicekit.errors import InvalidArgument

MAX_LIMIT, DEFAULT_LIMIT = 200, 50
STAFF = ("officer", "agency_admin", "operator", "auditor")


def _ts_or_none(value: datetime | None):  # noqa: ANN202
    return ts(value) if value is not None else None


def encode_cursor(value: str) -> str:
    """Opaque cursor for keyset pagination."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """Inverse of encode_cursor; a bad cursor is INVALID_ARGUMENT."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument("bad cursor", code="invalid_cursor", field="cursor") from exc


def agency_pb(a: Agency) -> routing_pb2.Agency:
    """Agency row -> proto."""
    return routing_pb2.Agency(code=a.code, name=common_pb2.LocalizedText(vi=a.name_vi, en=a.name_en), kind=a.kind,
                              parent_code=a.parent_code or "", ward_code=a.ward_code or "", active=a.active,
                              contact=a.contact or "")


def rule_pb(r: RoutingRule) -> routing_pb2.Rule:
    """Rule row -> proto (no ward list = whole city)."""
    return routing_pb2.Rule(id=r.id, version=r.version, kind=r.kind or "", category_code=r.category_code or "",
                            category_group=r.category_group or "", ward_codes=r.ward_codes or [],
                            agency_code=r.agency_code, priority=r.priority, enabled=r.enabled, current=r.active,
                            created_at=ts(r.created_at), created_by=r.created_by, note=r.note)


def agency_draft(msg: routing_pb2.Agency) -> directory.AgencyDraft:
    """Agency proto -> the writable fields."""
    return directory.AgencyDraft(code=msg.code, name_vi=msg.name.vi, name_en=msg.name.en, kind=msg.kind,
                                 parent_code=msg.parent_code or None, ward_code=msg.ward_code or None,
                                 active=msg.active, contact=msg.contact)


def rule_draft(msg: routing_pb2.Rule) -> rule_admin.RuleDraft:
    """Rule proto -> draft ("" = any; no wards = whole city)."""
    return rule_admin.RuleDraft(id=msg.id, agency_code=msg.agency_code, priority=msg.priority, kind=msg.kind or None,
                                category_code=msg.category_code or None, category_group=msg.category_group or None,
                                ward_codes=frozenset(msg.ward_codes) if msg.ward_codes else None,
                                enabled=msg.enabled, note=msg.note)


def assignment_pb(v: views.AssignmentView) -> routing_pb2.Assignment:
    """Assignment view -> proto."""
    a = v.assignment
    return routing_pb2.Assignment(
        report_id=a.report_id, agency_code=a.agency_code, rule_id=a.rule_id, rule_version=a.rule_version,
        ack_due_at=ts(a.ack_due_at), resolve_due_at=ts(a.resolve_due_at), assigned_at=ts(a.assigned_at),
        reason=a.reason, triage=a.triage, transfer_count=a.transfers, category_code=a.category_code,
        ward_code=a.ward_code, report_status=a.report_status,
        agency_name=common_pb2.LocalizedText(vi=v.agency.name_vi, en=v.agency.name_en) if v.agency else None,
        clocks=[routing_pb2.SlaClock(deadline=c.deadline, due_at=ts(c.due_at), warned_at=_ts_or_none(c.warned_at),
                                     breached_at=_ts_or_none(c.breached_at), stopped_at=_ts_or_none(c.stopped_at),
                                     escalated_to_agency_code=c.escalated_to) for c in v.clocks],
        transfers=[routing_pb2.Transfer(from_agency_code=t.from_agency_code, to_agency_code=t.to_agency_code,
                                        requested_agency_code=t.requested_agency_code, reason=t.reason,
                                        actor_role=t.actor_role, at=ts(t.at)) for t in v.transfers])


class RoutingServicer(routing_pb2_grpc.RoutingServiceServicer):
    """Translates RPCs to routing queries and handlers."""

    def __init__(self, uow_factory):  # noqa: ANN001
        self.uow = uow_factory

    async def ListAgencies(self, request, context):  # noqa: ANN001, N802
        if request.include_inactive:
            require_principal("operator", "auditor")
        limit = request.page.limit or DEFAULT_LIMIT
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidArgument(f"limit must be 1 to {MAX_LIMIT}", code="invalid_limit", field="limit")
        q = select(Agency).order_by(Agency.code).limit(limit + 1)
        if not request.include_inactive:
            q = q.where(Agency.active.is_(True))
        if request.page.cursor:
            q = q.where(Agency.code > decode_cursor(request.page.cursor))
        if request.kind:
            q = q.where(Agency.kind == request.kind)
        async with self.uow(read_only=True) as uow:
            rows = list((await uow.session.scalars(q)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return routing_pb2.ListAgenciesResponse(
            agencies=[agency_pb(a) for a in rows],
            page=common_pb2.PageResponse(next_cursor=encode_cursor(rows[-1].code) if more else ""))

    async def GetAgency(self, request, context):  # noqa: ANN001, N802
        async with self.uow(read_only=True) as uow:
            row = await uow.session.get(Agency, request.code)
        if row is None:
            raise errors.AgencyNotFound(f"no agency {request.code}")
        return agency_pb(row)

    async def CreateAgency(self, request, context):  # noqa: ANN001, N802
        require_principal("operator")
        async with self.uow() as uow:
            return agency_pb(await directory.create_agency(uow, agency_draft(request)))

    async def UpdateAgency(self, request, context):  # noqa: ANN001, N802
        require_principal("operator")
        async with self.uow() as uow:
            return agency_pb(await directory.update_agency(uow, agency_draft(request)))

    async def GetAssignment(self, request, context):  # noqa: ANN001, N802
        principal = require_principal(*STAFF)
        async with self.uow(read_only=True) as uow:
            view = await views.assignment(uow.session, request.report_id)
        if view is None or (principal.role in ("officer", "agency_admin")
                            and principal.agency_code != view.assignment.agency_code):
            raise errors.AssignmentNotFound("no assignment for this report")
        return assignment_pb(view)

    async def TransferReport(self, request, context):  # noqa: ANN001, N802
        principal = require_principal("officer", "agency_admin", "operator")
        async with self.uow() as uow:
            await handlers.transfer_report(uow, principal=principal, report_id=request.report_id,
                                           to_agency_code=request.to_agency_code, reason=request.reason)
        async with self.uow() as uow:
            return assignment_pb(await views.assignment(uow.session, request.report_id))

    async def ExplainRoute(self, request, context):  # noqa: ANN001, N802
        require_principal(*STAFF)
        at = request.at.ToDatetime(tzinfo=UTC) if request.HasField("at") else datetime.now(UTC)
        async with self.uow(read_only=True) as uow:
            e = await views.explain(uow.session, kind=request.kind, category_code=request.category_code,
                                    category_group=request.category_group, ward_code=request.ward_code, at=at)
        d = e.decision
        return routing_pb2.ExplainRouteResponse(
            agency_code=e.agency.code, rule_id=d.rule.id if d.rule else "",
            rule_version=d.rule.version if d.rule else 0, reason=d.reason,
            agency_name=common_pb2.LocalizedText(vi=e.agency.name_vi, en=e.agency.name_en),
            triage=e.triage, candidates=[routing_pb2.RuleMatch(rule=rule_pb(row), winner=i == 0, specificity=spec)
                                         for i, (row, spec) in enumerate(e.candidates)],
            ack_hours=e.sla.ack_hours, resolve_hours=e.sla.resolve_hours, sla_calendar=e.sla.calendar,
            ack_due_at=ts(e.ack_due_at), resolve_due_at=ts(e.resolve_due_at))

    async def ListRules(self, request, context):  # noqa: ANN001, N802
        require_principal(*STAFF)
        async with self.uow(read_only=True) as uow:
            rows = await rule_admin.list_rules(uow.session, rule_id=request.rule_id,
                                               include_history=request.include_history,
                                               include_disabled=request.include_disabled)
        return routing_pb2.ListRulesResponse(rules=[rule_pb(r) for r in rows])

    async def SaveRule(self, request, context):  # noqa: ANN001, N802
        principal = require_principal("operator")
        async with self.uow() as uow:
            row = await rule_admin.save_rule(uow, draft=rule_draft(request.rule),
                                             expected_version=request.expected_version, actor=principal.user_id)
        return rule_pb(row)

    async def ListCalendar(self, request, context):  # noqa: ANN001, N802
        year = request.year or datetime.now(UTC).year
        async with self.uow(read_only=True) as uow:
            days, public = await directory.list_calendar(uow.session, year)
        return routing_pb2.ListCalendarResponse(
            days=[routing_pb2.CalendarDay(day=d.day.isoformat(), working=d.working, note=d.note) for d in days],
            public_holidays=[routing_pb2.PublicHoliday(day=day.isoformat(), name=name) for day, name in public])

    async def SetCalendarDay(self, request, context):  # noqa: ANN001, N802
        require_principal("operator")
        async with self.uow() as uow:
            row = await directory.set_calendar_day(uow, day=request.day, working=request.working, note=request.note)
        return routing_pb2.CalendarDay(day=row.day.isoformat(), working=row.working, note=row.note)

    async def DeleteCalendarDay(self, request, context):  # noqa: ANN001, N802
        require_principal("operator")
        async with self.uow() as uow:
            await directory.delete_calendar_day(uow, day=request.day)
        return routing_pb2.DeleteCalendarDayResponse()

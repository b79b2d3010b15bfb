"""Routing: agencies, rules (versioned) with the dry-run, the working calendar, assignments, transfers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import grpc
from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import reports_pb2
from congdanso.routing.v1 import routing_pb2
from gateway.auth import CurrentPrincipal, OptionalPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.idempotency import IdempotencyKey, with_conflicts
from gateway.protoconv import LocalizedText, enum_out, next_cursor, text, time_of, time_or_none

router = APIRouter(prefix="/api/v1")  # agencies are tagged "catalog", the rest "routing"
TAGS = ["routing"]
BackendsDep = Annotated[Backends, Depends(backends)]
AgencyKind = Literal["ward_committee", "department", "utility", "police", "operations_centre"]
Kind = Literal["incident", "feedback", "proposal"]
AGENCY_CODE = r"^[a-z][a-z0-9_]{1,39}$"
RULE_ID = r"^[a-z0-9][a-z0-9-]{1,59}$"
REPORT_ID = r"^[A-Za-z0-9_-]{1,64}$"
WARD = r"^\d{5}$"
CATEGORY = r"^[a-z0-9_]{1,60}$"
FORBIDDEN = {403: {"model": Problem, "description": "role_not_allowed"}}


# --- agencies ----------------------------------------------------------------------------------

class AgencyOut(BaseModel):
    """An agency that handles reports."""

    code: str = Field(examples=["ubnd_26743"])
    name: LocalizedText
    kind: str = Field(examples=["ward_committee"])
    parent_code: str = Field(examples=["ioc"])
    ward_code: str = Field(examples=["26743"])
    active: bool = True
    contact: str = Field(default="", examples=["028 3829 1234"])


class AgencyPage(BaseModel):
    """One page of agencies; pass `next_cursor` back as `cursor` (null on the last page)."""

    items: list[AgencyOut]
    next_cursor: str | None


class AgencyUpdateIn(BaseModel):
    """The writable fields of an agency (a full replacement)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": {"vi": "Sở Tài chính TP.HCM", "en": "HCMC Department of Finance"}, "kind": "department",
        "parent_code": "ioc", "ward_code": "", "active": True, "contact": "028 3829 0000"}]})

    name: LocalizedText
    kind: AgencyKind
    parent_code: str = Field(default="", pattern=r"^([a-z][a-z0-9_]{1,39})?$", description="empty: no parent")
    ward_code: str = Field(default="", pattern=r"^(\d{5})?$")
    active: bool = True
    contact: str = Field(default="", max_length=200)


class AgencyIn(AgencyUpdateIn):
    """A new agency."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "code": "so_tc", "name": {"vi": "Sở Tài chính TP.HCM", "en": "HCMC Department of Finance"},
        "kind": "department", "parent_code": "ioc", "active": True, "contact": "028 3829 0000"}]})

    code: str = Field(pattern=AGENCY_CODE, examples=["so_tc"])


def agency_out(a: routing_pb2.Agency) -> AgencyOut:
    """Agency proto -> JSON."""
    return AgencyOut(code=a.code, name=text(a.name), kind=a.kind, parent_code=a.parent_code, ward_code=a.ward_code,
                     active=a.active, contact=a.contact)


def agency_pb(code: str, body: AgencyUpdateIn) -> routing_pb2.Agency:
    """JSON -> Agency proto."""
    return routing_pb2.Agency(code=code, name=common_pb2.LocalizedText(vi=body.name.vi, en=body.name.en),
                              kind=body.kind, parent_code=body.parent_code, ward_code=body.ward_code,
                              active=body.active, contact=body.contact)


@router.get("/agencies", tags=["catalog"], openapi_extra={"security": [{}]})
async def list_agencies(
    clients: BackendsDep, caller: OptionalPrincipal,
    cursor: Annotated[str, Query(max_length=512)] = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    kind: Literal["", "ward_committee", "department", "utility", "police", "operations_centre"] = "",
    include_inactive: Annotated[bool, Query(description="operators and auditors only")] = False,
) -> AgencyPage:
    """Agencies, optionally of one kind, page by page."""
    reply = await clients.call(clients.routing.ListAgencies, routing_pb2.ListAgenciesRequest(
        page=common_pb2.PageRequest(cursor=cursor, limit=limit), kind=kind, include_inactive=include_inactive),
        token=caller.token if caller else None)
    return AgencyPage(items=[agency_out(a) for a in reply.agencies], next_cursor=next_cursor(reply.page))


@router.get("/agencies/{code}", tags=["catalog"],
            responses={404: {"model": Problem, "description": "agency_not_found"}})
async def get_agency(code: Annotated[str, Path(pattern=AGENCY_CODE)], clients: BackendsDep) -> AgencyOut:
    """One agency."""
    return agency_out(await clients.call(clients.routing.GetAgency, routing_pb2.GetAgencyRequest(code=code)))


@router.post("/agencies", tags=TAGS, status_code=201, responses=with_conflicts({
    **FORBIDDEN, 409: {"model": Problem, "description": "agency_exists"}}))
async def create_agency(body: AgencyIn, caller: CurrentPrincipal, clients: BackendsDep,
                        response: Response, idempotency_key: IdempotencyKey = None) -> AgencyOut:
    """Add an agency (operators)."""
    reply = await clients.call(clients.routing.CreateAgency, agency_pb(body.code, body), token=caller.token,
                               idempotency_key=idempotency_key)
    response.headers["Location"] = f"/api/v1/agencies/{reply.code}"
    return agency_out(reply)


@router.put("/agencies/{code}", tags=TAGS,
            responses={**FORBIDDEN, 404: {"model": Problem, "description": "agency_not_found"}})
async def update_agency(code: Annotated[str, Path(pattern=AGENCY_CODE)], body: AgencyUpdateIn,
                        caller: CurrentPrincipal, clients: BackendsDep) -> AgencyOut:
    """Replace an agency's names, kind, parent, ward, active flag and contact (operators)."""
    return agency_out(await clients.call(clients.routing.UpdateAgency, agency_pb(code, body), token=caller.token))


# --- rules -------------------------------------------------------------------------------------

class RuleOut(BaseModel):
    """One version of a routing rule; null conditions match anything, null wards = whole city."""

    id: str = Field(examples=["r-roads-city"])
    version: int = Field(examples=[2])
    kind: Kind | None
    category_code: str | None = Field(examples=[None])
    category_group: str | None = Field(examples=["roads"])
    ward_codes: list[str] | None = Field(examples=[None])
    agency_code: str = Field(examples=["so_xd"], description='an agency code or "@ward" (the report\'s ward committee)')
    priority: int = Field(examples=[20])
    enabled: bool
    current: bool = Field(description="the rule's latest version")
    created_at: datetime
    created_by: str
    note: str


class RuleList(BaseModel):
    """Routing rules."""

    items: list[RuleOut]


class RuleIn(BaseModel):
    """A new rule (expected_version 0) or the next version of one (expected_version = its current version)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "expected_version": 1, "kind": "incident", "category_group": "roads", "ward_codes": None,
        "agency_code": "so_xd", "priority": 20, "enabled": True, "note": "main roads stay with the department"}]})

    expected_version: int = Field(ge=0, le=2**31 - 1, examples=[1])
    kind: Kind | None = None
    category_code: str | None = Field(default=None, pattern=CATEGORY)
    category_group: str | None = Field(default=None, pattern=CATEGORY)
    ward_codes: list[Annotated[str, Field(pattern=WARD)]] | None = Field(default=None, max_length=168)
    agency_code: str = Field(pattern=r"^(@ward|[a-z][a-z0-9_]{1,39})$", examples=["so_xd"])
    priority: int = Field(default=0, ge=0, le=1000)
    enabled: bool = True
    note: str = Field(default="", max_length=300)


def rule_out(r: routing_pb2.Rule) -> RuleOut:
    """Rule proto -> JSON."""
    return RuleOut(id=r.id, version=r.version, kind=r.kind or None, category_code=r.category_code or None,
                   category_group=r.category_group or None, ward_codes=list(r.ward_codes) or None,
                   agency_code=r.agency_code, priority=r.priority, enabled=r.enabled, current=r.current,
                   created_at=time_of(r, "created_at"), created_by=r.created_by, note=r.note)


@router.get("/routing/rules", tags=TAGS, responses=FORBIDDEN)
async def list_rules(
    caller: CurrentPrincipal, clients: BackendsDep,
    rule_id: Annotated[str, Query(pattern=r"^([a-z0-9][a-z0-9-]{1,59})?$")] = "",
    history: Annotated[bool, Query(description="every version, not only the current ones")] = False,
    include_disabled: bool = False,
) -> RuleList:
    """Routing rules (staff)."""
    reply = await clients.call(clients.routing.ListRules, routing_pb2.ListRulesRequest(
        rule_id=rule_id, include_history=history, include_disabled=include_disabled), token=caller.token)
    return RuleList(items=[rule_out(r) for r in reply.rules])


@router.put("/routing/rules/{rule_id}", tags=TAGS, responses={
    **FORBIDDEN, 409: {"model": Problem, "description": "rule_tie / rule_fallback_missing / rule_exists / "
                                                        "rule_version_conflict"}})
async def save_rule(rule_id: Annotated[str, Path(pattern=RULE_ID)], body: RuleIn, caller: CurrentPrincipal,
                    clients: BackendsDep) -> RuleOut:
    """Create a rule or save its next version (operators); ties and missing city-wide rules are refused."""
    rule = routing_pb2.Rule(id=rule_id, kind=body.kind or "", category_code=body.category_code or "",
                            category_group=body.category_group or "", ward_codes=body.ward_codes or [],
                            agency_code=body.agency_code, priority=body.priority, enabled=body.enabled, note=body.note)
    reply = await clients.call(clients.routing.SaveRule, routing_pb2.SaveRuleRequest(
        rule=rule, expected_version=body.expected_version), token=caller.token)
    return rule_out(reply)


class RuleMatchOut(BaseModel):
    """A rule that matches the report, and how specific it is."""

    rule: RuleOut
    winner: bool
    specificity: str = Field(examples=["group, whole city, kind, priority 20"])


class SlaOut(BaseModel):
    """The deadlines of the category."""

    ack_hours: float = Field(examples=[4])
    resolve_hours: float = Field(examples=[80])
    calendar: Literal["working", "calendar"]


class AgencyRef(BaseModel):
    """An agency, by code and name."""

    code: str = Field(examples=["so_xd"])
    name: LocalizedText


class ExplanationOut(BaseModel):
    """Who would get such a report, why, and by when."""

    agency: AgencyRef
    rule_id: str | None = Field(examples=["r-roads-city"])
    rule_version: int | None = Field(examples=[1])
    reason: str = Field(examples=["rule r-roads-city v1: group roads, whole city"])
    triage: bool
    category_group: str = Field(examples=["roads"])
    candidates: list[RuleMatchOut]
    sla: SlaOut
    ack_due_at: datetime
    resolve_due_at: datetime


async def _category_group(clients: Backends, category_code: str) -> str:
    """The category's group from the reports catalogue ('' when unknown or reports is away)."""
    try:
        reply = await clients.call(clients.reports.ListCategories,
                                   reports_pb2.ListCategoriesRequest(include_inactive=True))
    except grpc.aio.AioRpcError:
        return ""
    return next((c.group for c in reply.categories if c.code == category_code), "")


@router.get("/routing/explain", tags=TAGS, responses=FORBIDDEN)
async def explain_route(
    caller: CurrentPrincipal, clients: BackendsDep, kind: Kind,
    ward_code: Annotated[str, Query(pattern=r"^(\d{5})?$", examples=["26743"])] = "",
    category_code: Annotated[str, Query(pattern=r"^([a-z0-9_]{1,60})?$", examples=["road_pothole"])] = "",
    category_group: Annotated[str, Query(pattern=r"^([a-z0-9_]{1,60})?$",
                                         description="default: the category's group")] = "",
    at: Annotated[datetime | None, Query(description="filing time for the due times (default now)")] = None,
) -> ExplanationOut:
    """Dry run: which agency would get category X in ward Y, by which rule version, with which deadlines (staff)."""
    if category_code and not category_group:
        category_group = await _category_group(clients, category_code)
    request = routing_pb2.ExplainRouteRequest(kind=kind, category_code=category_code, category_group=category_group,
                                              ward_code=ward_code)
    if at is not None:
        request.at.FromDatetime(at)
    e = await clients.call(clients.routing.ExplainRoute, request, token=caller.token)
    return ExplanationOut(
        agency=AgencyRef(code=e.agency_code, name=text(e.agency_name)), rule_id=e.rule_id or None,
        rule_version=e.rule_version or None, reason=e.reason, triage=e.triage, category_group=category_group,
        candidates=[RuleMatchOut(rule=rule_out(c.rule), winner=c.winner, specificity=c.specificity)
                    for c in e.candidates],
        sla=SlaOut(ack_hours=e.ack_hours, resolve_hours=e.resolve_hours, calendar=e.sla_calendar or "working"),
        ack_due_at=time_of(e, "ack_due_at"), resolve_due_at=time_of(e, "resolve_due_at"))


# --- working calendar --------------------------------------------------------------------------

class CalendarDayOut(BaseModel):
    """A city decision: a make-up working day (working=true) or an extra day off."""

    day: date = Field(examples=["2026-04-25"])
    working: bool
    note: str = Field(examples=["Làm bù cho ngày 30/4"])


class HolidayOut(BaseModel):
    """A public holiday of Vietnam."""

    day: date = Field(examples=["2026-09-02"])
    name: str = Field(examples=["National Day"])


class CalendarOut(BaseModel):
    """The city's decisions and the public holidays of one year."""

    year: int
    days: list[CalendarDayOut]
    public_holidays: list[HolidayOut]


class CalendarDayIn(BaseModel):
    """Mark a day as a make-up working day or an extra day off."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"working": True, "note": "Làm bù cho ngày 30/4"}]})

    working: bool
    note: str = Field(default="", max_length=200)


@router.get("/routing/calendar", tags=TAGS, openapi_extra={"security": [{}]})
async def get_calendar(clients: BackendsDep,
                       year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> CalendarOut:
    """The working calendar of a year (default: this year): city days off, make-up days, public holidays."""
    reply = await clients.call(clients.routing.ListCalendar, routing_pb2.ListCalendarRequest(year=year or 0))
    days = [CalendarDayOut(day=date.fromisoformat(d.day), working=d.working, note=d.note) for d in reply.days]
    public = [HolidayOut(day=date.fromisoformat(h.day), name=h.name) for h in reply.public_holidays]
    shown = year or (public[0].day.year if public else datetime.now().year)
    return CalendarOut(year=shown, days=days, public_holidays=public)


@router.put("/routing/calendar/{day}", tags=TAGS, responses=FORBIDDEN)
async def set_calendar_day(day: date, body: CalendarDayIn, caller: CurrentPrincipal,
                           clients: BackendsDep) -> CalendarDayOut:
    """Record a make-up working day or an extra day off (operators); deadlines set from now on use it."""
    reply = await clients.call(clients.routing.SetCalendarDay, routing_pb2.CalendarDay(
        day=day.isoformat(), working=body.working, note=body.note), token=caller.token)
    return CalendarDayOut(day=date.fromisoformat(reply.day), working=reply.working, note=reply.note)


@router.delete("/routing/calendar/{day}", tags=TAGS, status_code=204, responses={
    **FORBIDDEN, 404: {"model": Problem, "description": "calendar_day_not_found"}})
async def delete_calendar_day(day: date, caller: CurrentPrincipal, clients: BackendsDep) -> Response:
    """Forget the city's decision for a day (operators)."""
    await clients.call(clients.routing.DeleteCalendarDay, routing_pb2.DeleteCalendarDayRequest(day=day.isoformat()),
                       token=caller.token)
    return Response(status_code=204)


# --- assignments and transfers -----------------------------------------------------------------

class ClockOut(BaseModel):
    """One deadline of the assignment and what the scheduler did about it."""

    deadline: Literal["ack", "resolve"]
    due_at: datetime
    warned_at: datetime | None
    breached_at: datetime | None
    stopped_at: datetime | None
    escalated_to: str | None = Field(examples=["ioc"])


class TransferOut(BaseModel):
    """A recorded transfer."""

    from_agency_code: str = Field(examples=["ubnd_26743"])
    to_agency_code: str = Field(examples=["ctmt"])
    requested_agency_code: str = Field(examples=["ctmt"])
    reason: str
    actor_role: str = Field(examples=["officer"])
    at: datetime


class AssignmentOut(BaseModel):
    """Who handles a report, by which rule version, by when, and its transfers (staff)."""

    report_id: str
    agency: AgencyRef
    rule_id: str | None
    rule_version: int | None
    reason: str
    triage: bool
    report_status: str = Field(examples=["assigned"])
    assigned_at: datetime
    ack_due_at: datetime
    resolve_due_at: datetime
    transfer_count: int
    clocks: list[ClockOut]
    transfers: list[TransferOut]


class TransferIn(BaseModel):
    """Hand the report to another agency."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "to_agency_code": "ctmt", "reason": "Thu gom rác thuộc trách nhiệm Công ty Môi trường đô thị"}]})

    to_agency_code: str = Field(pattern=AGENCY_CODE, examples=["ctmt"])
    reason: str = Field(min_length=5, max_length=500)


def assignment_out(a: routing_pb2.Assignment) -> AssignmentOut:
    """Assignment proto -> JSON."""
    return AssignmentOut(
        report_id=a.report_id, agency=AgencyRef(code=a.agency_code, name=text(a.agency_name)),
        rule_id=a.rule_id or None, rule_version=a.rule_version or None, reason=a.reason, triage=a.triage,
        report_status=a.report_status, assigned_at=time_of(a, "assigned_at"), ack_due_at=time_of(a, "ack_due_at"),
        resolve_due_at=time_of(a, "resolve_due_at"), transfer_count=a.transfer_count,
        clocks=[ClockOut(deadline=c.deadline, due_at=time_of(c, "due_at"), warned_at=time_or_none(c, "warned_at"),
                         breached_at=time_or_none(c, "breached_at"), stopped_at=time_or_none(c, "stopped_at"),
                         escalated_to=c.escalated_to_agency_code or None) for c in a.clocks],
        transfers=[TransferOut(from_agency_code=t.from_agency_code, to_agency_code=t.to_agency_code,
                               requested_agency_code=t.requested_agency_code, reason=t.reason,
                               actor_role=t.actor_role, at=time_of(t, "at")) for t in a.transfers])


@router.get("/reports/{report_id}/assignment", tags=TAGS, responses={
    **FORBIDDEN, 404: {"model": Problem, "description": "assignment_not_found"}})
async def get_assignment(report_id: Annotated[str, Path(pattern=REPORT_ID)], caller: CurrentPrincipal,
                         clients: BackendsDep) -> AssignmentOut:
    """The report's assignment with its deadline clocks and transfers (staff; officers of that agency)."""
    reply = await clients.call(clients.routing.GetAssignment, routing_pb2.GetAssignmentRequest(report_id=report_id),
                               token=caller.token)
    return assignment_out(reply)


@router.post("/reports/{report_id}/transfer", tags=TAGS, responses=with_conflicts({
    **FORBIDDEN, 404: {"model": Problem, "description": "assignment_not_found"},
    409: {"model": Problem, "description": "report_not_transferable / transfer_limit_reached"}}))
async def transfer_report(report_id: Annotated[str, Path(pattern=REPORT_ID)], body: TransferIn,
                          caller: CurrentPrincipal, clients: BackendsDep,
                          idempotency_key: IdempotencyKey = None) -> AssignmentOut:
    """Transfer the report to another agency with a reason (officers of the assigned agency, operators).

    After 3 transfers an officer's transfer goes to the operations centre instead.
    """
    reply = await clients.call(clients.routing.TransferReport, routing_pb2.TransferReportRequest(
        report_id=report_id, to_agency_code=body.to_agency_code, reason=body.reason), token=caller.token,
        idempotency_key=idempotency_key)
    return assignment_out(reply)

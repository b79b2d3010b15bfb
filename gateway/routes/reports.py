"""Reports: submit and read (ReportsService)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Response
from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import reports_pb2
from gateway.auth import CurrentPrincipal, OptionalPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.routes.media import MediaOut, media_out
from gateway.protoconv import LocalizedText, enum_in, enum_out, text, time_of, time_or_none

router = APIRouter(prefix="/api/v1", tags=["reports"])
BackendsDep = Annotated[Backends, Depends(backends)]

Kind = Literal["incident", "feedback", "proposal"]
Status = Literal["submitted", "assigned", "in_progress", "resolved", "closed", "rejected", "withdrawn"]
Visibility = Literal["public", "private"]
REPORT_ID = r"^[A-Za-z0-9_-]{1,64}$"


class Location(BaseModel):
    """A point, the ward it lies in and the address as typed."""

    latitude: float = Field(ge=-90, le=90, examples=[10.7769])
    longitude: float = Field(ge=-180, le=180, examples=[106.7009])
    ward_code: str = Field(default="", pattern=r"^(\d{5})?$", examples=["26734"])
    address: str = Field(default="", max_length=300, examples=["12 Lê Lợi"])


class SubmitReportIn(BaseModel):
    """A new report."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "kind": "incident", "category_code": "road_pothole",
        "description": "Ổ gà lớn giữa đường, xe máy dễ té ngã.",
        "location": {"latitude": 10.7769, "longitude": 106.7009, "ward_code": "26734", "address": "12 Lê Lợi"},
        "visibility": "public", "anonymous": False}]})

    kind: Kind
    category_code: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    description: str = Field(min_length=1, max_length=5000)
    location: Location | None = None
    visibility: Visibility = "public"
    anonymous: bool = False
    attributes: dict[str, str] = Field(default={}, max_length=20,
                                       description="the category's extra fields; lists: comma-separated keys")
    media_ids: list[str] = Field(default=[], max_length=5, description="photos uploaded with POST /api/v1/media")


class AgencyRef(BaseModel):
    """The agency handling a report."""

    code: str = Field(examples=["ubnd_26734"])
    name: LocalizedText


class TimelineEntryOut(BaseModel):
    """One step in a report's history."""

    id: str
    status: Status
    action: str = Field(examples=["acknowledge"])
    actor_role: str = Field(examples=["citizen"])
    note: str
    at: datetime


class ReportOut(BaseModel):
    """A report; `reporter_id` appears only when the caller may see it."""

    id: str = Field(examples=["0198c2a0-7d3e-7c4f-9a51-3f1f5d0b2e11"])
    kind: Kind
    category_code: str = Field(examples=["road_pothole"])
    category_group: str = Field(examples=["roads"])
    description: str
    location: Location | None
    status: Status
    visibility: Visibility
    anonymous: bool
    reporter_id: str | None = None
    agency: AgencyRef | None
    ack_due_at: datetime | None
    resolve_due_at: datetime | None
    submitted_at: datetime
    updated_at: datetime
    version: int
    followers: int = 0
    comments: int = 0
    following: bool = False
    rating: int | None = Field(default=None, ge=1, le=5)
    rating_comment: str = ""
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reject_reason: str | None = None
    merged_into: str | None = None
    attributes: dict[str, str] = {}
    media: list[MediaOut] = []
    timeline: list[TimelineEntryOut]

    @model_serializer(mode="wrap")
    def _omit_empty_reporter(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if data.get("reporter_id") is None:
            data.pop("reporter_id", None)
        return data


def _status(value: int) -> str:
    return enum_out(reports_pb2.ReportStatus, "REPORT_STATUS_", value)


def report_out(report: reports_pb2.Report) -> ReportOut:
    """Report proto -> JSON."""
    loc = report.location
    location = (Location(latitude=loc.latitude, longitude=loc.longitude, ward_code=loc.ward_code,
                         address=loc.address) if report.HasField("location") else None)
    agency = (AgencyRef(code=report.agency_code, name=text(report.agency_name)) if report.agency_code else None)
    visibility = "private" if report.visibility == reports_pb2.VISIBILITY_PRIVATE else "public"
    return ReportOut(
        id=report.id, kind=enum_out(reports_pb2.ReportKind, "REPORT_KIND_", report.kind),
        category_code=report.category_code, category_group=report.category_group,
        description=report.description, location=location, status=_status(report.status),
        visibility=visibility, anonymous=report.anonymous, reporter_id=report.reporter_id or None,
        agency=agency, ack_due_at=time_or_none(report, "ack_due_at"),
        resolve_due_at=time_or_none(report, "resolve_due_at"), submitted_at=time_of(report, "submitted_at"),
        updated_at=time_of(report, "updated_at"), version=report.version, followers=report.followers,
        comments=report.comments, following=report.following, rating=report.rating or None,
        rating_comment=report.rating_comment, resolved_at=time_or_none(report, "resolved_at"),
        closed_at=time_or_none(report, "closed_at"), reject_reason=report.reject_reason or None,
        merged_into=report.merged_into or None,
        attributes=dict(report.attributes),
        media=[media_out(m) for m in report.media],
        timeline=[TimelineEntryOut(id=t.id, status=_status(t.status), action=t.action, actor_role=t.actor_role,
                                   note=t.note, at=time_of(t, "at")) for t in report.timeline],
    )


def submit_request(body: SubmitReportIn, idempotency_key: str) -> reports_pb2.SubmitReportRequest:
    """JSON -> SubmitReportRequest."""
    location = None
    if body.location is not None:
        location = common_pb2.Location(latitude=body.location.latitude, longitude=body.location.longitude,
                                       ward_code=body.location.ward_code, address=body.location.address)
    return reports_pb2.SubmitReportRequest(
        kind=enum_in(reports_pb2.ReportKind, "REPORT_KIND_", body.kind), category_code=body.category_code,
        description=body.description, location=location,
        visibility=enum_in(reports_pb2.Visibility, "VISIBILITY_", body.visibility), anonymous=body.anonymous,
        idempotency_key=idempotency_key, attributes=body.attributes,
        media_ids=body.media_ids)


@router.post("/reports", status_code=201, responses={
    401: {"model": Problem}, 409: {"model": Problem, "description": "idempotency_key_reused"}})
async def submit_report(
    body: SubmitReportIn, caller: CurrentPrincipal, clients: BackendsDep, response: Response,
    idempotency_key: Annotated[str | None, Header(
        alias="Idempotency-Key", min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$",
        description="Same key and body within the retention window returns the same report")] = None,
) -> ReportOut:
    """File a report (incident, feedback or proposal)."""
    reply = await clients.call(clients.reports.SubmitReport, submit_request(body, idempotency_key or ""),
                               token=caller.token)
    response.headers["Location"] = f"/api/v1/reports/{reply.id}"
    return report_out(reply)


@router.get("/reports/{report_id}", responses={404: {"model": Problem, "description": "report_not_found"}},
            openapi_extra={"security": [{}]})  # FastAPI adds the bearer scheme; {} makes it optional
async def get_report(
    report_id: Annotated[str, Path(pattern=REPORT_ID)], caller: OptionalPrincipal, clients: BackendsDep,
) -> ReportOut:
    """One report with its timeline; public reports are readable without signing in."""
    reply = await clients.call(clients.reports.GetReport, reports_pb2.GetReportRequest(id=report_id),
                               token=caller.token if caller else None)
    return report_out(reply)

"""Reports: lifecycle transitions, lists (public feed, mine, agency queue), comments, follows,
ratings and statistics (ReportsService)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, Field

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import reports_pb2
from gateway.auth import CurrentPrincipal, OptionalPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.idempotency import IdempotencyKey, with_conflicts
from servicekit.protoutil import timestamp
from gateway.protoconv import enum_in, next_cursor, time_of
from gateway.routes.reports import REPORT_ID, Kind, ReportOut, Status, report_out

router = APIRouter(prefix="/api/v1", tags=["reports"])
BackendsDep = Annotated[Backends, Depends(backends)]
ReportId = Annotated[str, Path(pattern=REPORT_ID)]
Action = Literal["acknowledge", "resolve", "reject", "withdraw", "confirm", "reopen"]


class TransitionIn(BaseModel):
    """Move a report along its lifecycle."""

    action: Action = Field(examples=["resolve"])
    note: str = Field(default="", max_length=2000, examples=["Đã nạo vét cống, nước đã rút."])
    reason: Literal["", "duplicate", "out_of_scope", "invalid", "spam"] = ""
    expected_version: int = Field(default=0, ge=0, le=2**31 - 1, description="the version you saw; 409 if it changed")


class ReportPage(BaseModel):
    items: list[ReportOut]
    next_cursor: str | None


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=2000, examples=["Nước vẫn còn ngập đến sáng nay."])
    internal: bool = Field(default=False, description="staff only: hidden from residents and the public")


class CommentOut(BaseModel):
    id: str
    author_role: str
    body: str
    internal: bool
    mine: bool
    created_at: datetime


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


class FollowOut(BaseModel):
    following: bool
    followers: int


class RatingIn(BaseModel):
    stars: int = Field(ge=1, le=5, examples=[4])
    comment: str = Field(default="", max_length=1000)


class StatsRowOut(BaseModel):
    key: str
    total: int
    by_status: dict[str, int]
    resolved: int
    resolved_on_time: int
    on_time_rate: float
    median_hours_to_resolve: float
    mean_rating: float
    ratings: int


class StatsOut(BaseModel):
    group_by: str
    rows: list[StatsRowOut]


_ts = timestamp


@router.post("/reports/{report_id}/transitions", responses={
    403: {"model": Problem}, 404: {"model": Problem}, 409: {"model": Problem}})
async def transition(report_id: ReportId, body: TransitionIn, caller: CurrentPrincipal,
                     clients: BackendsDep) -> ReportOut:
    """Acknowledge, resolve (note required), reject (reason required), withdraw, confirm or reopen."""
    request = reports_pb2.TransitionReportRequest(
        id=report_id, action=enum_in(reports_pb2.TransitionAction, "TRANSITION_ACTION_", body.action),
        note=body.note, reason=body.reason, expected_version=body.expected_version)
    return report_out(await clients.call(clients.reports.TransitionReport, request, token=caller.token))


async def _list(clients: Backends, token: str | None, scope: int, *, kind: list[Kind], category: list[str],
                ward: list[str], status: list[Status], q: str, submitted_from: datetime | None,
                submitted_to: datetime | None, bbox: str | None, agency: str, sort: str, cursor: str,
                limit: int) -> ReportPage:
    box = [float(v) for v in bbox.split(",")] if bbox else [0.0, 0.0, 0.0, 0.0]
    request = reports_pb2.ListReportsRequest(
        scope=scope, page=common_pb2.PageRequest(cursor=cursor, limit=limit),
        kinds=[enum_in(reports_pb2.ReportKind, "REPORT_KIND_", k) for k in kind], category_codes=category,
        ward_codes=ward, statuses=[enum_in(reports_pb2.ReportStatus, "REPORT_STATUS_", s) for s in status],
        q=q, submitted_from=_ts(submitted_from), submitted_to=_ts(submitted_to),
        min_lon=box[0], min_lat=box[1], max_lon=box[2], max_lat=box[3], agency_code=agency, sort=sort)
    reply = await clients.call(clients.reports.ListReports, request, token=token)
    return ReportPage(items=[report_out(r) for r in reply.reports], next_cursor=next_cursor(reply.page))


BBOX = r"^-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?,-?\d+(\.\d+)?$"


@router.get("/reports", openapi_extra={"security": [{}]})
async def list_reports(
    caller: OptionalPrincipal, clients: BackendsDep,
    scope: Literal["public", "mine", "agency"] = "public",
    kind: Annotated[list[Kind], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    category: Annotated[list[str], Query(max_length=64)] = [],  # noqa: B006
    ward: Annotated[list[Annotated[str, Field(pattern=r"^\d{5}$")]], Query()] = [],  # noqa: B006
    status: Annotated[list[Status], Query()] = [],  # noqa: B006
    q: Annotated[str, Query(max_length=200, description="words; diacritics optional")] = "",
    submitted_from: datetime | None = None, submitted_to: datetime | None = None,
    bbox: Annotated[str | None, Query(pattern=BBOX, description="min_lon,min_lat,max_lon,max_lat")] = None,
    agency: Annotated[str, Query(max_length=40)] = "", sort: Literal["newest", "due"] = "newest",
    cursor: Annotated[str, Query(max_length=500)] = "", limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ReportPage:
    """The public feed (PII masked), your own reports (`scope=mine`) or your agency's queue (`scope=agency`)."""
    scopes = {"public": reports_pb2.LIST_SCOPE_PUBLIC, "mine": reports_pb2.LIST_SCOPE_MINE,
              "agency": reports_pb2.LIST_SCOPE_AGENCY}
    return await _list(clients, caller.token if caller else None, scopes[scope], kind=kind, category=category,
                       ward=ward, status=status, q=q, submitted_from=submitted_from, submitted_to=submitted_to,
                       bbox=bbox, agency=agency, sort=sort, cursor=cursor, limit=limit)


@router.get("/reports/nearby", openapi_extra={"security": [{}]})
async def nearby(
    caller: OptionalPrincipal, clients: BackendsDep,
    lat: Annotated[float, Query(ge=8.3, le=11.6)], lon: Annotated[float, Query(ge=106.1, le=107.7)],
    radius_m: Annotated[int, Query(ge=10, le=2000)] = 200,
    category: Annotated[list[str], Query(max_length=64)] = [],  # noqa: B006
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> ReportPage:
    """Open public reports near a point, nearest first: check before filing a duplicate ("me too")."""
    request = reports_pb2.ListReportsRequest(
        scope=reports_pb2.LIST_SCOPE_PUBLIC, page=common_pb2.PageRequest(limit=limit), category_codes=category,
        near_lat=lat, near_lon=lon, radius_m=radius_m)
    reply = await clients.call(clients.reports.ListReports, request, token=caller.token if caller else None)
    return ReportPage(items=[report_out(r) for r in reply.reports], next_cursor=None)


class MergeIn(BaseModel):
    parent_id: str = Field(pattern=REPORT_ID, description="the report this one duplicates")


@router.post("/reports/{report_id}/merge", responses={403: {"model": Problem}, 409: {"model": Problem}})
async def merge(report_id: ReportId, body: MergeIn, caller: CurrentPrincipal, clients: BackendsDep) -> ReportOut:
    """Staff: close a duplicate into its parent; its reporter then follows the parent."""
    reply = await clients.call(clients.reports.MergeReport, reports_pb2.MergeReportRequest(
        id=report_id, parent_id=body.parent_id), token=caller.token)
    return report_out(reply)


@router.get("/agency/queue")
async def agency_queue(
    caller: CurrentPrincipal, clients: BackendsDep,
    status: Annotated[list[Status], Query()] = ["assigned", "in_progress"],  # noqa: B006
    agency: Annotated[str, Query(max_length=40)] = "",
    cursor: Annotated[str, Query(max_length=500)] = "", limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> ReportPage:
    """Your agency's open reports, soonest deadline first (operators: any agency)."""
    return await _list(clients, caller.token, reports_pb2.LIST_SCOPE_AGENCY, kind=[], category=[], ward=[],
                       status=status, q="", submitted_from=None, submitted_to=None, bbox=None, agency=agency,
                       sort="due", cursor=cursor, limit=limit)


@router.get("/reports/{report_id}/comments", openapi_extra={"security": [{}]})
async def list_comments(report_id: ReportId, caller: OptionalPrincipal, clients: BackendsDep,
                        cursor: Annotated[str, Query(max_length=64)] = "",
                        limit: Annotated[int, Query(ge=1, le=100)] = 50) -> CommentPage:
    """Comments, oldest first; internal ones only for the agency's staff."""
    reply = await clients.call(clients.reports.ListComments, reports_pb2.ListCommentsRequest(
        report_id=report_id, page=common_pb2.PageRequest(cursor=cursor, limit=limit)),
        token=caller.token if caller else None)
    return CommentPage(items=[_comment(c) for c in reply.comments], next_cursor=next_cursor(reply.page))


def _comment(c: reports_pb2.Comment) -> CommentOut:
    return CommentOut(id=c.id, author_role=c.author_role, body=c.body, internal=c.internal, mine=c.mine,
                      created_at=time_of(c, "created_at"))


@router.post("/reports/{report_id}/comments", status_code=201, responses=with_conflicts())
async def add_comment(report_id: ReportId, body: CommentIn, caller: CurrentPrincipal,
                      clients: BackendsDep, idempotency_key: IdempotencyKey = None) -> CommentOut:
    """Comment on a report (staff may add internal notes)."""
    reply = await clients.call(clients.reports.AddComment, reports_pb2.AddCommentRequest(
        report_id=report_id, body=body.body, internal=body.internal), token=caller.token,
        idempotency_key=idempotency_key)
    return _comment(reply)


@router.put("/reports/{report_id}/follow")
async def follow(report_id: ReportId, caller: CurrentPrincipal, clients: BackendsDep) -> FollowOut:
    """Follow a report ("me too"): you get its notifications."""
    reply = await clients.call(clients.reports.FollowReport, reports_pb2.FollowReportRequest(
        report_id=report_id, follow=True), token=caller.token)
    return FollowOut(following=reply.following, followers=reply.followers)


@router.delete("/reports/{report_id}/follow")
async def unfollow(report_id: ReportId, caller: CurrentPrincipal, clients: BackendsDep) -> FollowOut:
    """Stop following a report."""
    reply = await clients.call(clients.reports.FollowReport, reports_pb2.FollowReportRequest(
        report_id=report_id, follow=False), token=caller.token)
    return FollowOut(following=reply.following, followers=reply.followers)


@router.post("/reports/{report_id}/rating")
async def rate(report_id: ReportId, body: RatingIn, caller: CurrentPrincipal, clients: BackendsDep,
               response: Response) -> ReportOut:
    """The reporter rates the handling once, after resolution."""
    reply = await clients.call(clients.reports.RateReport, reports_pb2.RateReportRequest(
        report_id=report_id, stars=body.stars, comment=body.comment), token=caller.token)
    return report_out(reply)


@router.get("/stats")
async def stats(clients: BackendsDep, submitted_from: Annotated[datetime, Query(alias="from")],
                submitted_to: Annotated[datetime | None, Query(alias="to")] = None,
                group_by: Literal["agency", "ward", "category"] = "agency",
                agency: Annotated[str, Query(max_length=40)] = "",
                ward: Annotated[str, Query(pattern=r"^(\d{5})?$")] = "",
                category: Annotated[str, Query(max_length=64)] = "") -> StatsOut:
    """Public statistics: counts by state, on-time rate, median time to resolve, satisfaction."""
    request = reports_pb2.GetStatsRequest(to=_ts(submitted_to), group_by=group_by, agency_code=agency,
                                          ward_code=ward, category_code=category)
    getattr(request, "from").CopyFrom(_ts(submitted_from))
    reply = await clients.call(clients.reports.GetStats, request)
    return StatsOut(group_by=group_by, rows=[StatsRowOut(
        key=r.key, total=r.total, by_status=dict(r.by_status), resolved=r.resolved,
        resolved_on_time=r.resolved_on_time, on_time_rate=r.on_time_rate,
        median_hours_to_resolve=r.median_hours_to_resolve, mean_rating=r.mean_rating, ratings=r.ratings)
        for r in reply.rows])

"""The ReportsService / IdentityService calls behind the Open311 endpoints."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from congdanso.common.v1 import common_pb2
from congdanso.identity.v1 import identity_pb2
from congdanso.reports.v1 import reports_pb2
from gateway.clients import Backends
from gateway.open311 import params
from gateway.open311.convert import pick
from gateway.protoconv import enum_in
from servicekit.errors import NotFound, PermissionDenied

PAGE = 100  # ListReports' largest page; up to 1000 results take several calls


def stamp(value) -> Timestamp:  # noqa: ANN001 - an aware datetime
    """datetime -> Timestamp."""
    out = Timestamp()
    out.FromDatetime(value)
    return out


async def category_names(clients: Backends, lang: str) -> dict[str, str]:
    """Category code -> service name in `lang` (inactive categories included: old reports use them)."""
    reply = await clients.call(clients.reports.ListCategories, reports_pb2.ListCategoriesRequest(include_inactive=True))
    return {c.code: pick(c.name, lang) for c in reply.categories}


async def client_token(clients: Backends, api_key: str, client_ip: str) -> str:
    """An integration client's access token for its Open311 api_key; 403 when missing or not valid."""
    if not api_key:
        raise PermissionDenied("api_key is required", code="open311_api_key")
    try:
        reply = await clients.call(clients.identity.IssueClientToken,
                                   identity_pb2.IssueClientTokenRequest(api_key=api_key, client_ip=client_ip))
    except grpc.aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED,
                          grpc.StatusCode.INVALID_ARGUMENT):
            raise PermissionDenied("api_key is not valid", code="open311_api_key") from exc
        raise
    return reply.access_token


async def get_category(clients: Backends, code: str) -> reports_pb2.Category:
    """One category; an unknown code is Open311's 404 "service_code not found"."""
    if not params.CODE.match(code):
        raise NotFound("service_code not found", code="open311_not_found")
    try:
        return await clients.call(clients.reports.GetCategory, reports_pb2.GetCategoryRequest(code=code))
    except grpc.aio.AioRpcError as exc:
        if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
            raise NotFound("service_code not found", code="open311_not_found") from exc
        raise


def list_request(query: dict[str, str]) -> tuple[reports_pb2.ListReportsRequest, int]:
    """GET requests' parameters -> the first ListReports request and how many results to return."""
    if ids := query.get("service_request_id", ""):
        # The spec: when service_request_id is given, every other parameter is ignored.
        found = params.codes(ids, "service_request_id", params.REQUEST_ID, most=100)
        return reports_pb2.ListReportsRequest(scope=reports_pb2.LIST_SCOPE_PUBLIC, ids=found), len(found)
    span = params.window(query.get("start_date", ""), query.get("end_date", ""))
    page = params.positive(query.get("page", ""), "page", 1, 10_001)
    size = params.positive(query.get("page_size", ""), "page_size", params.MAX_RESULTS, params.MAX_RESULTS)
    offset = (page - 1) * size
    if offset > params.MAX_OFFSET:
        raise params.bad(f"page * page_size may reach at most {params.MAX_OFFSET} results", "page")
    req = reports_pb2.ListReportsRequest(
        scope=reports_pb2.LIST_SCOPE_PUBLIC, offset=offset,
        category_codes=params.codes(query.get("service_code", ""), "service_code"),
        statuses=[enum_in(reports_pb2.ReportStatus, "REPORT_STATUS_", s)
                  for s in params.statuses(query.get("status", ""))],
        submitted_from=stamp(span.start), submitted_to=stamp(span.end) if span.end else None)
    if box := params.bbox(query.get("bbox", "")):
        req.min_lat, req.min_lon, req.max_lat, req.max_lon = box
    return req, size


async def list_reports(clients: Backends, req: reports_pb2.ListReportsRequest, want: int) -> list[reports_pb2.Report]:
    """Up to `want` reports, following cursors (the offset applies to the first page only)."""
    out: list[reports_pb2.Report] = []
    while len(out) < want:
        req.page.CopyFrom(common_pb2.PageRequest(cursor=req.page.cursor, limit=min(PAGE, want - len(out))))
        reply = await clients.call(clients.reports.ListReports, req)
        out.extend(reply.reports)
        if not reply.page.next_cursor or not reply.reports:
            break
        req.page.cursor, req.offset = reply.page.next_cursor, 0
    return out[:want]

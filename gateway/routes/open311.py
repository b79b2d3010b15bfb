"""Open311 GeoReport v2 at /open311/v2/ in JSON and XML, plus the servicerequestupdates extension.

Reads are public (public reports only, PII-free); writes take the `api_key` of an integration client,
exchanged with identity for a client token that the reports service checks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import reports_pb2
from gateway import i18n
from gateway.clients import Backends, backends
from gateway.idempotency import IdempotencyKey
from gateway.open311 import PREFIX, backend, convert, params, render
from gateway.open311.models import RequestCreated, TokenLookup
from gateway.protoconv import enum_in
from gateway.routes.auth import client_ip
from servicekit.errors import NotFound

router = APIRouter(prefix=PREFIX, tags=["open311"])
BackendsDep = Annotated[Backends, Depends(backends)]
Fmt = Annotated[str, Path(description="json or xml", examples=["json"])]
ACTIONS = {"acknowledge": "open", "resolve": "closed", "reject": "closed"}
BOTH = {"application/json": {}, "text/xml": {}}
ERRORS = {"default": {"content": BOTH, "description": "Open311 errors: [{code, description}] (400, 403, 404)"}}
DOC = {"responses": {200: {"content": BOTH, "description": "The document in the format the URL asks for"},
                     **ERRORS}, "response_class": Response}
CREATED = {"responses": {201: {"content": BOTH, "description": "Created; the document in the asked format"},
                         **ERRORS}, "response_class": Response, "status_code": 201}


def _query(*names: str) -> list[dict]:
    return [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}, "description": QUERY[n]}
            for n in names]


def _form(required: list[str], fields: dict[str, str]) -> dict:
    return {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": required,
        "properties": {name: {"type": "string", "description": text} for name, text in fields.items()}}}}}}


QUERY = {"service_request_id": "comma-separated ids (at most 100); every other parameter is then ignored",
         "service_code": "comma-separated service codes", "start_date": "W3C datetime (default: end_date - 90 days)",
         "end_date": "W3C datetime", "status": "open, closed or open,closed", "jurisdiction_id": "accepted, ignored",
         "page": "extension: page number from 1", "page_size": "extension: results per page, 1..1000 (default 1000)",
         "bbox": "extension: min_long,min_lat,max_long,max_lat", "limit": "extension: 1..1000 (default 1000)"}
LIST_QUERY = {"parameters": _query("service_request_id", "service_code", "start_date", "end_date", "status",
                                   "jurisdiction_id", "page", "page_size", "bbox")}
UPDATES_QUERY = {"parameters": _query("start_date", "end_date", "limit", "jurisdiction_id")}
NEW_REQUEST = _form(["api_key", "service_code"], {
    "api_key": "an integration client's Open311 key", "service_code": "the category", "description": "the text",
    "lat": "latitude", "long": "longitude", "address_string": "the address as typed", "address_id": "accepted",
    "ward_code": "extension: 5-digit ward code (incidents need one)", "jurisdiction_id": "accepted, ignored",
    "attribute[code]": "an attribute value; attribute[code][] repeated for a multivaluelist"})
NEW_UPDATE = _form(["api_key", "service_request_id", "status"], {
    "api_key": "the key of a client of the report's agency", "service_request_id": "the request",
    "status": "open (acknowledge) or closed (resolve)", "description": "the note (resolving needs one)",
    "action": "extension: acknowledge | resolve | reject", "reason": "extension, reject: duplicate | out_of_scope "
                                                                      "| invalid | spam"})


def fmt_of(fmt: str) -> str:
    """The format part of the URL; 400 unless json or xml."""
    if fmt not in render.FORMATS:
        raise params.bad("the format must be json or xml", "format")
    return fmt


def lang_of(request: Request) -> str:
    """vi or en from Accept-Language."""
    return i18n.negotiate(request.headers.get("accept-language"))


@router.get("/discovery.{fmt}", **DOC)
async def discovery(request: Request, fmt: Fmt) -> Response:
    """Service discovery: where this endpoint lives and which formats it speaks."""
    settings = request.app.state.settings
    url = str(request.base_url).rstrip("/") + PREFIX
    doc = {"changeset": settings.open311_changeset, "contact": settings.open311_contact,
           "key_service": "API keys: integration clients registered by the city (POST /api/v1/clients)",
           "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": url,
                          "changeset": settings.open311_changeset, "type": "production",
                          "formats": ["application/json", "text/xml"]}]}
    return render.respond(fmt_of(fmt), "discovery", doc)


@router.get("/services.{fmt}", **DOC)
async def services(request: Request, fmt: Fmt, clients: BackendsDep) -> Response:
    """The active categories as Open311 services (jurisdiction_id accepted and ignored)."""
    fmt, lang = fmt_of(fmt), lang_of(request)
    reply = await clients.call(clients.reports.ListCategories, reports_pb2.ListCategoriesRequest())
    items = [convert.service(c, lang).model_dump() for c in reply.categories]
    return render.respond(fmt, "services", items)


@router.get("/services/{service_code}.{fmt}", **DOC)
async def service_definition(request: Request, service_code: str, fmt: Fmt, clients: BackendsDep) -> Response:
    """A service definition: the category's extra fields as attributes; 404 when unknown."""
    fmt = fmt_of(fmt)
    category = await backend.get_category(clients, service_code)
    return render.respond(fmt, "service_definition", convert.definition(category, lang_of(request)).model_dump())


@router.get("/requests.{fmt}", openapi_extra=LIST_QUERY, **DOC)
async def list_requests(request: Request, fmt: Fmt, clients: BackendsDep) -> Response:
    """Public service requests, newest first: filters, the 90-day / 1000-result default, page and bbox."""
    fmt, lang = fmt_of(fmt), lang_of(request)
    req, want = backend.list_request(dict(request.query_params))
    reports = await backend.list_reports(clients, req, want)
    names = await backend.category_names(clients, lang)
    items = [convert.service_request(r, names, lang).model_dump() for r in reports]
    return render.respond(fmt, "service_requests", items)


@router.get("/requests/{service_request_id}.{fmt}", **DOC)
async def get_request(request: Request, service_request_id: str, fmt: Fmt, clients: BackendsDep) -> Response:
    """One public service request, as a one-element array; 404 when unknown."""
    fmt, lang = fmt_of(fmt), lang_of(request)
    if not params.REQUEST_ID.match(service_request_id):
        raise NotFound("service_request_id not found", code="open311_not_found")
    report = await clients.call(clients.reports.GetReport, reports_pb2.GetReportRequest(id=service_request_id))
    names = await backend.category_names(clients, lang)
    return render.respond(fmt, "service_requests", [convert.service_request(report, names, lang).model_dump()])


@router.get("/tokens/{token}.{fmt}", **DOC)
async def token_lookup(token: str, fmt: Fmt, clients: BackendsDep) -> Response:
    """The request a token became: requests are created synchronously, so the token is the id."""
    fmt = fmt_of(fmt)
    if not params.REQUEST_ID.match(token):
        raise NotFound("token not found", code="open311_not_found")
    report = await clients.call(clients.reports.GetReport, reports_pb2.GetReportRequest(id=token))
    return render.respond(fmt, "service_requests", [TokenLookup(service_request_id=report.id, token=token).model_dump()])


@router.post("/requests.{fmt}", openapi_extra=NEW_REQUEST, **CREATED)
async def create_request(request: Request, fmt: Fmt, clients: BackendsDep,
                         idempotency_key: IdempotencyKey = None) -> Response:
    """Create a service request (form-encoded, api_key required, attribute[code] values, ward_code extension).

    Extension: an `Idempotency-Key` header makes a retry return the same request (a reused key: 400)."""
    fmt = fmt_of(fmt)
    form = params.form(await request.body())
    code = params.one(form, "service_code")
    if not code:
        raise params.bad("service_code is required", "service_code")
    lat, lon = params.coordinate(params.one(form, "lat"), "lat", 90), params.coordinate(params.one(form, "long"), "long", 180)
    address, address_id = params.one(form, "address_string"), params.one(form, "address_id")
    if (lat is None) != (lon is None):
        raise params.bad("lat and long go together", "lat")
    if lat is None and not address and not address_id:
        raise params.bad("a location is required: lat and long, address_string or address_id", "lat")
    attributes = params.attributes(form)
    token = await backend.client_token(clients, params.one(form, "api_key"), client_ip(request))
    category = await backend.get_category(clients, code)
    location = None
    if lat is not None and lon is not None:
        location = common_pb2.Location(latitude=lat, longitude=lon, ward_code=params.one(form, "ward_code"),
                                       address=address[:300])
    report = await clients.call(clients.reports.SubmitReport, reports_pb2.SubmitReportRequest(
        kind=category.kind, category_code=category.code, description=params.one(form, "description"),
        location=location, visibility=reports_pb2.VISIBILITY_PUBLIC, attributes=attributes,
        idempotency_key=idempotency_key or ""), token=token)
    created = RequestCreated(service_request_id=report.id, service_notice="", account_id=None)
    return render.respond(fmt, "service_requests", [created.model_dump()], status=201)


@router.get("/servicerequestupdates.{fmt}", openapi_extra=UPDATES_QUERY, **DOC)
async def list_updates(request: Request, fmt: Fmt, clients: BackendsDep) -> Response:
    """Changes of public requests since start_date (default: 90 days), oldest first, up to `limit` (1000)."""
    fmt, lang, query = fmt_of(fmt), lang_of(request), request.query_params
    span = params.window(query.get("start_date", ""), query.get("end_date", ""))
    limit = params.positive(query.get("limit", ""), "limit", params.MAX_RESULTS, params.MAX_RESULTS)
    reply = await clients.call(clients.reports.ListUpdates, reports_pb2.ListUpdatesRequest(
        since=backend.stamp(span.start), limit=limit))
    end = span.end or datetime.max.replace(tzinfo=UTC)
    items = [convert.update(u, lang).model_dump() for u in reply.updates
             if u.entry.at.ToDatetime(tzinfo=UTC) <= end]
    return render.respond(fmt, "service_request_updates", items)


@router.post("/servicerequestupdates.{fmt}", openapi_extra=NEW_UPDATE, **CREATED)
async def post_update(request: Request, fmt: Fmt, clients: BackendsDep) -> Response:
    """An agency system reports progress: status open (acknowledge) or closed (resolve; `action=reject` + reason)."""
    fmt, lang = fmt_of(fmt), lang_of(request)
    form = params.form(await request.body())
    report_id, status = params.one(form, "service_request_id"), params.one(form, "status")
    if not params.REQUEST_ID.match(report_id):
        raise params.bad("service_request_id is required", "service_request_id")
    if status not in ("open", "closed"):
        raise params.bad("status must be open or closed", "status")
    action = params.one(form, "action") or ("resolve" if status == "closed" else "acknowledge")
    if ACTIONS.get(action) != status:
        raise params.bad("action must be acknowledge (status open), resolve or reject (status closed)", "action")
    token = await backend.client_token(clients, params.one(form, "api_key"), client_ip(request))
    report = await clients.call(clients.reports.TransitionReport, reports_pb2.TransitionReportRequest(
        id=report_id, action=enum_in(reports_pb2.TransitionAction, "TRANSITION_ACTION_", action),
        note=params.one(form, "description"), reason=params.one(form, "reason")), token=token)
    entry = report.timeline[-1] if report.timeline else reports_pb2.TimelineEntry(at=report.updated_at)
    update = convert.update(reports_pb2.ReportUpdate(report_id=report.id, entry=entry, status=report.status,
                                                     agency_code=report.agency_code), lang)
    return render.respond(fmt, "service_request_updates", [update.model_dump()], status=201)

"""The one gRPC -> HTTP table and RFC 9457 problem+json responses for every failure."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import grpc
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from opentelemetry import trace
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from gateway import i18n
from gateway.open311 import PREFIX as OPEN311_PREFIX
from gateway.open311 import render as open311_render
from servicekit.errors import AppError
from servicekit.errors import ERROR_CODE_KEY, ERROR_FIELD_KEY

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://congdanso.vn/problems/"

GRPC_TO_HTTP: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNIMPLEMENTED: 501,
}

# Stable codes for HTTP-level failures that do not come from a service.
_HTTP_CODES = {400: "bad_request", 401: "auth_required", 403: "permission_denied", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
               429: "rate_limited"}
# Open311 knows 400, 403 and 404 (and plain HTTP for the rest): a bad api_key is a 403, a refused step a 400.
_OPEN311_STATUS = {401: 403, 409: 400}


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(examples=["location.latitude"])
    message: str = Field(examples=["Input should be less than or equal to 90"])
    type: str = Field(examples=["less_than_equal"])


class Problem(BaseModel):
    """RFC 9457 problem details with a stable machine-readable `code`."""

    type: str = Field(examples=["https://congdanso.vn/problems/report_not_found"])
    title: str = Field(examples=["Không tìm thấy phản ánh"])
    status: int = Field(examples=[404])
    detail: str | None = Field(default=None, examples=["Phản ánh không tồn tại hoặc bạn không có quyền xem."])
    code: str = Field(examples=["report_not_found"])
    field: str | None = None
    trace_id: str | None = Field(default=None, examples=["4bf92f3577b34da6a3ce929d0e0e4736"])
    instance: str = Field(examples=["/api/v1/reports/0198c2a0-7d3e-7c4f-9a51-3f1f5d0b2e11"])
    errors: list[FieldError] | None = None
    checks: dict[str, str] | None = None


def trace_id() -> str | None:
    """The current OpenTelemetry trace id as 32 hex digits, if a span is recording."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def problem(request: Request, status: int, code: str, *, message: str | None = None, field: str | None = None,
            headers: dict[str, str] | None = None, **extra: Any) -> Response:
    """A problem+json response, titles and details localized from Accept-Language."""
    lang = i18n.negotiate(request.headers.get("accept-language"))
    title, detail = i18n.message(code, status, lang)
    if detail is None:
        # Service messages are written for callers; 5xx messages may describe internals, so never shown.
        detail = message if message and status < 500 else i18n.generic_detail(status, lang)
    if request.url.path.startswith(OPEN311_PREFIX + "/"):
        return open311_problem(request, _OPEN311_STATUS.get(status, status), detail, headers)
    body: dict[str, Any] = {"type": TYPE_BASE + code, "title": title, "status": status, "detail": detail,
                            "code": code}
    if field:
        body["field"] = field
    if tid := trace_id():
        body["trace_id"] = tid
    body["instance"] = request.url.path
    body.update({k: v for k, v in extra.items() if v is not None})
    out = {"Content-Language": lang, "Vary": "Accept-Language", **(headers or {})}
    if status == 503:
        out.setdefault("Retry-After", "1")
    if status == 401:
        token_error = code.startswith("token_")
        out.setdefault("WWW-Authenticate", 'Bearer error="invalid_token"' if token_error else "Bearer")
    return Response(orjson.dumps(body), status_code=status, media_type=MEDIA_TYPE, headers=out)


def open311_problem(request: Request, status: int, description: str,
                    headers: dict[str, str] | None = None) -> Response:
    """The same failure in the Open311 `errors` format, JSON or XML after the URL's suffix."""
    out = dict(headers or {})
    if status == 503:
        out.setdefault("Retry-After", "1")
    return open311_render.errors(open311_render.format_of(request.url.path), status, description, out)


def grpc_problem(request: Request, exc: grpc.aio.AioRpcError) -> Response:
    """Map a failed RPC through the table; the stable code comes from the trailing metadata."""
    status = GRPC_TO_HTTP.get(exc.code(), 500)
    meta = {k: v for k, v in (exc.trailing_metadata() or ()) if isinstance(v, str)}
    if status == 500:
        log.error("backend call failed", extra={"grpc_status": exc.code().name, "path": request.url.path})
        return problem(request, 500, "internal")
    if status >= 500:
        log.warning("backend unavailable", extra={"grpc_status": exc.code().name, "path": request.url.path})
    code = meta.get(ERROR_CODE_KEY) or exc.code().name.lower()
    return problem(request, status, code, message=exc.details(), field=meta.get(ERROR_FIELD_KEY))


def app_error_problem(request: Request, exc: AppError) -> Response:
    """An AppError raised in the gateway itself (e.g. by the JWT verifier), through the same table."""
    status = GRPC_TO_HTTP.get(getattr(grpc.StatusCode, exc.status, grpc.StatusCode.UNKNOWN), 500)
    if status == 500:
        return problem(request, 500, "internal")
    return problem(request, status, exc.code, message=str(exc), field=exc.field)


def _field_name(loc: tuple) -> str:
    """("body", "location", "latitude") -> "location.latitude"; ("query", "limit") -> "limit"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] or parts
    return ".".join(parts)


def validation_problem(request: Request, exc: RequestValidationError) -> Response:
    """400: malformed JSON, or the list of invalid fields."""
    errors = exc.errors()
    if any(err.get("type") == "json_invalid" for err in errors):
        return problem(request, 400, "malformed_json")
    items = [{"field": _field_name(tuple(err.get("loc", ()))), "message": str(err.get("msg", "")),
              "type": str(err.get("type", ""))} for err in errors]
    field = items[0]["field"] if len(items) == 1 else None
    return problem(request, 400, "validation_error", field=field, errors=items)


def http_problem(request: Request, exc: StarletteHTTPException) -> Response:
    """Routing-level failures (404 unknown route, 405, 413 ...) as problems."""
    status = exc.status_code
    code = _HTTP_CODES.get(status, "internal" if status >= 500 else "bad_request")
    return problem(request, status, code, headers=dict(exc.headers or {}))


def internal_problem(request: Request, exc: Exception) -> Response:
    """Log (no body, no query string, no PII) and answer 500 without internals."""
    extra: dict[str, Any] = {"method": request.method, "path": request.url.path, "error_type": type(exc).__name__}
    if isinstance(exc, ValidationError):
        # Its message quotes the offending input (possibly personal data): log locations and types only.
        extra["errors"] = [{"loc": list(e["loc"]), "type": e["type"]} for e in exc.errors(include_input=False)]
        extra["stack"] = "".join(traceback.format_tb(exc.__traceback__))
        log.error("unhandled error", extra=extra)
    else:
        log.error("unhandled error", exc_info=exc, extra=extra)
    return problem(request, 500, "internal")


def install(app: FastAPI) -> None:
    """Register every exception handler on the app."""

    async def on_grpc(request: Request, exc: Exception) -> Response:
        return grpc_problem(request, exc)  # type: ignore[arg-type]

    async def on_app_error(request: Request, exc: Exception) -> Response:
        return app_error_problem(request, exc)  # type: ignore[arg-type]

    async def on_validation(request: Request, exc: Exception) -> Response:
        return validation_problem(request, exc)  # type: ignore[arg-type]

    async def on_http(request: Request, exc: Exception) -> Response:
        return http_problem(request, exc)  # type: ignore[arg-type]

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        return internal_problem(request, exc)

    app.add_exception_handler(grpc.aio.AioRpcError, on_grpc)
    app.add_exception_handler(AppError, on_app_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)

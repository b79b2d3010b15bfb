"""Pure ASGI middleware: body size limit, last-resort error guard with access log, security headers."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway import i18n
from gateway.errors import internal_problem, problem

access_log = logging.getLogger("gateway.access")
log = logging.getLogger(__name__)

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI loads its bundle from jsDelivr and runs an inline bootstrap script; only /docs gets this.
DOCS_CSP = ("default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https:; "
            "connect-src 'self'; frame-ancestors 'none'")
HSTS = "max-age=31536000; includeSubDomains"


class PayloadTooLarge(StarletteHTTPException):
    """Raised from receive() once a streamed body passes the limit.

    An HTTPException so that FastAPI's body reader re-raises it instead of turning it into a 400.
    """

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyLimitMiddleware:
    """Rejects a declared Content-Length over the limit up front and counts streamed (chunked) bytes.

    Starlette's RequestBodyLimitMiddleware answers text/plain and only once the app reads the body;
    we want problem+json and to refuse before routing, auth or any backend call.
    """

    def __init__(self, app: ASGIApp, max_body: int, overrides: Mapping[str, int] | None = None):
        self.app, self.max_body = app, max_body
        # Path prefix -> own limit (e.g. media uploads), longest prefix first.
        self.overrides = sorted((overrides or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        """The body limit that applies to a path."""
        return next((limit for prefix, limit in self.overrides if path.startswith(prefix)), self.max_body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await problem(Request(scope), 413, "payload_too_large")(scope, receive, send)
            return
        received, started = 0, False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except PayloadTooLarge:
            if started:
                raise
            await problem(Request(scope), 413, "payload_too_large")(scope, receive, send)


class ErrorGuardMiddleware:
    """Turns any unhandled exception into a 500 problem (no re-raise) and writes one access-log line.

    The access log holds method, path, status and duration only: no query string, body or client IP.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status, started, started_at = 500, False, time.perf_counter()

        async def tracking_send(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            if started:  # too late for a problem response; the server closes the connection
                log.error("error after the response started", exc_info=exc, extra={"path": scope["path"]})
                raise
            await internal_problem(Request(scope), exc)(scope, receive, send)
        finally:
            access_log.info("request", extra={
                "method": scope["method"], "path": scope["path"], "status": status,
                "duration_ms": round((time.perf_counter() - started_at) * 1000, 1)})


class SecurityHeadersMiddleware:
    """Security headers, Content-Language and a no-store default on every response; no server banner."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        docs = path == "/docs" or path.startswith("/docs/")
        lang = i18n.negotiate(Headers(scope=scope).get("accept-language"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "server" in headers:
                    del headers["server"]
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Content-Security-Policy"] = DOCS_CSP if docs else API_CSP
                if scope.get("scheme") == "https":
                    headers["Strict-Transport-Security"] = HSTS
                headers.setdefault("Content-Language", lang)
                if path.startswith("/api/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)

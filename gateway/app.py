"""The FastAPI application: routes, error handlers, middleware; backends opened in the lifespan."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from gateway import errors
from gateway.clients import Backends
from gateway.config import GatewaySettings
from gateway.metrics import EdgeMetrics, MetricsMiddleware
from gateway.middleware import BodyLimitMiddleware, ErrorGuardMiddleware, SecurityHeadersMiddleware
from gateway.openapi import build_openapi
from gateway.ratelimit import EdgeLimiter, RateLimitMiddleware
from gateway import routes
from servicekit.auth import JwtVerifier
from servicekit.heap import freeze_startup_heap

DESCRIPTION = ("Public REST API of Công dân số: residents report city problems, agencies handle them on "
               "deadline. Errors are RFC 9457 `application/problem+json` with a stable `code`; "
               "`Accept-Language: vi|en`.")


def route_modules() -> list:
    """Every module of gateway.routes (each defines `router`), in name order."""
    names = sorted(m.name for m in pkgutil.iter_modules(routes.__path__))
    return [importlib.import_module(f"gateway.routes.{name}") for name in names]


def create_app(settings: GatewaySettings) -> FastAPI:
    """Build the app; nothing connects until the lifespan starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        clients = Backends(settings)
        app.state.backends = clients
        app.state.verifier = JwtVerifier(clients.fetch_jwks, issuer=settings.jwt_issuer,
                                         audience=settings.jwt_audience)
        freeze_startup_heap()   # servicekit.heap: full collections stop walking the start-up heap
        try:
            yield
        finally:
            await clients.close()

    app = FastAPI(title="congdanso API", version="1", description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/openapi.json", docs_url="/docs", redoc_url=None)
    app.state.settings = settings
    app.state.metrics = EdgeMetrics()
    for module in route_modules():
        app.include_router(module.router)
    errors.install(app)
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]

    # add_middleware puts each new one outermost: body limit is innermost, security headers outermost,
    # so that even a 413, a 429, a 500 or a CORS preflight answer carries the headers. Metrics sit outside
    # the error guard and the limiter (they count 500s and 429s); forwarded-IP handling is outside the
    # limiter, which keys on the real client address.
    app.add_middleware(BodyLimitMiddleware, max_body=settings.max_json_body,
                       overrides={"/api/v1/media": settings.max_upload_body})
    app.add_middleware(ErrorGuardMiddleware)
    if settings.rate_enabled:
        app.add_middleware(RateLimitMiddleware, limiter=EdgeLimiter(settings))
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "Accept-Language"],
            expose_headers=["Location", "Retry-After", "Content-Language"], max_age=600)
    app.add_middleware(SecurityHeadersMiddleware)
    # One server span per request (its gRPC calls are its children); no span per ASGI send/receive
    # message: three extra spans per request that told an operator nothing.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="/healthz,/readyz", exclude_spans=["receive", "send"])
    return app

"""Operations: liveness, readiness (gRPC health of every backend), metrics and the public JWKS."""

from __future__ import annotations

import time
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from gateway.clients import Backends, backends
from gateway.errors import Problem, problem

router = APIRouter(tags=["ops"])
JWKS_CACHE_S = 60.0
BackendsDep = Annotated[Backends, Depends(backends)]


class Health(BaseModel):
    """The process is alive."""

    status: str = Field(examples=["ok"])


class Readiness(BaseModel):
    """Every backend answered SERVING."""

    status: str = Field(examples=["ready"])
    checks: dict[str, str] = Field(examples=[{"identity": "ok", "reports": "ok", "routing": "ok", "notify": "ok"}])


@router.get("/healthz")
async def healthz() -> Health:
    """Liveness: answers as long as the process runs."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": Problem, "description": "not_ready, with the per-backend checks"}})
async def readyz(request: Request, clients: BackendsDep) -> Readiness:
    """Readiness: every backend's grpc.health.v1 reports SERVING within the probe timeout."""
    checks = await clients.check_all(request.app.state.settings.ready_timeout_s)
    if any(result != "ok" for result in checks.values()):
        return problem(request, 503, "not_ready", checks=checks)  # type: ignore[return-value]
    return Readiness(status="ready", checks=checks)


@router.get("/.well-known/jwks.json", response_class=Response, responses={
    200: {"content": {"application/json": {"example": {"keys": [
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
         "kid": "0198c2a0-7d3e-7c4f-9a51-3f1f5d0b2e11", "alg": "EdDSA", "use": "sig"}]}}},
          "description": "RFC 7517 JSON Web Key Set"}})
async def jwks(request: Request, clients: BackendsDep) -> Response:
    """Identity's public signing keys, for anyone verifying access tokens."""
    # A short server-side cache keeps this public, unauthenticated URL from loading identity per hit.
    expires_at, body = getattr(request.app.state, "jwks_cache", (0.0, b""))
    if time.monotonic() >= expires_at:
        body = orjson.dumps(orjson.loads(await clients.fetch_jwks()))
        request.app.state.jwks_cache = (time.monotonic() + JWKS_CACHE_S, body)
    return Response(body, media_type="application/json", headers={"Cache-Control": "public, max-age=300"})


@router.get("/metrics", response_class=Response, responses={
    200: {"content": {CONTENT_TYPE_LATEST: {"example": 'gateway_http_requests_total{method="GET",'
                                            'route="/api/v1/reports/{report_id}",status="200"} 42.0'}},
          "description": "Prometheus text exposition format"}})
async def metrics(request: Request) -> Response:
    """Request rate, errors and latency per route template, in the Prometheus text format."""
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)

"""Gateway tests: fake peer services on a real grpc.aio socket, the app under uvicorn on a real port.

The fakes are test doubles of the four peer processes (identity, reports, routing, notify), served
by one gRPC server with grpc.health.v1; the gateway code itself runs unmodified.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from jwt.algorithms import OKPAlgorithm
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from congdanso.common.v1 import common_pb2
from congdanso.identity.v1 import identity_pb2, identity_pb2_grpc
from congdanso.notify.v1 import notify_pb2, notify_pb2_grpc
from congdanso.reports.v1 import reports_pb2, reports_pb2_grpc
from congdanso.routing.v1 import routing_pb2, routing_pb2_grpc
from gateway.app import create_app
from gateway.config import GatewaySettings
from servicekit.grpcserver import ERROR_CODE_KEY, ERROR_FIELD_KEY

ISSUER, AUDIENCE = "test-identity", "test-audience"
T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)

# A recording tracer provider so problems carry a trace id (first one set in the process wins).
if not isinstance(trace.get_tracer_provider(), TracerProvider):
    trace.set_tracer_provider(TracerProvider())


def ts(value: datetime = T0) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value)
    return out


@dataclass
class Call:
    request: object
    metadata: dict[str, str]
    time_remaining: float | None


@dataclass
class SigningKeys:
    """The Ed25519 key identity "owns" (published in its JWKS) and a stranger's key."""

    kid: str = "test-key-1"
    private: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    stranger: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def jwks(self) -> str:
        jwk = json.loads(OKPAlgorithm.to_jwk(self.private.public_key()))
        return json.dumps({"keys": [{**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]})

    def token(self, *, sub: str = "u-1", role: str = "citizen", ttl: int = 300, kid: str | None = None,
              key: Ed25519PrivateKey | None = None, **claims: object) -> str:
        now = int(time.time())
        body = {"sub": sub, "role": role, "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + ttl,
                "sid": "s-1", **claims}
        return jwt.encode(body, key or self.private, algorithm="EdDSA", headers={"kid": kid or self.kid})


@dataclass
class Failure:
    status: grpc.StatusCode
    details: str = ""
    code: str = ""
    field: str = ""


class FakePeers:
    """Records every call (request, metadata, deadline) and answers with canned data or a failure."""

    def __init__(self, keys: SigningKeys):
        self.keys = keys
        self.addr = ""
        self.calls: dict[str, list[Call]] = {}
        self.failures: dict[str, Failure] = {}
        self.replies: dict[str, object] = {}
        self.delays: dict[str, float] = {}

    async def handle(self, name: str, request: object, context: grpc.aio.ServicerContext) -> object | None:
        """Record the call; abort when a failure is configured; return an override reply if any."""
        self.calls.setdefault(name, []).append(
            Call(request, dict(context.invocation_metadata() or ()), context.time_remaining()))
        if delay := self.delays.get(name):
            await asyncio.sleep(delay)
        if failure := self.failures.get(name):
            trailing = [(k, v) for k, v in ((ERROR_CODE_KEY, failure.code), (ERROR_FIELD_KEY, failure.field)) if v]
            context.set_trailing_metadata(tuple(trailing))
            await context.abort(failure.status, failure.details)
        return self.replies.get(name)

    def fail(self, name: str, status: grpc.StatusCode, details: str = "", code: str = "", field: str = "") -> None:
        """Make RPC `name` abort with `status`, the message and the stable code in trailing metadata."""
        self.failures[name] = Failure(status, details, code, field)

    def last(self, name: str) -> Call:
        return self.calls[name][-1]


def user_pb() -> identity_pb2.User:
    return identity_pb2.User(id="u-1", phone="+84901234567", full_name="Nguyễn Văn An", language="vi",
                             home_ward_code="26734", role="citizen", assurance_level=1, created_at=ts())


def report_pb(**overrides: object) -> reports_pb2.Report:
    fields: dict = dict(
        id="r-1", kind=reports_pb2.REPORT_KIND_INCIDENT, category_code="road_pothole", category_group="roads",
        description="Ổ gà lớn giữa đường", status=reports_pb2.REPORT_STATUS_ASSIGNED,
        visibility=reports_pb2.VISIBILITY_PUBLIC, location=common_pb2.Location(
            latitude=10.7769, longitude=106.7009, ward_code="26734", address="12 Lê Lợi"),
        reporter_id="u-1", agency_code="ubnd_26734",
        agency_name=common_pb2.LocalizedText(vi="UBND phường Sài Gòn", en="Saigon Ward People's Committee"),
        ack_due_at=ts(datetime(2025, 7, 2, 8, 0, tzinfo=UTC)), submitted_at=ts(), updated_at=ts(), version=2,
        timeline=[reports_pb2.TimelineEntry(id="t-1", status=reports_pb2.REPORT_STATUS_SUBMITTED,
                                            actor_role="citizen", note="", at=ts()),
                  reports_pb2.TimelineEntry(id="t-2", status=reports_pb2.REPORT_STATUS_ASSIGNED,
                                            actor_role="system", note="routed", at=ts())])
    fields.update(overrides)
    return reports_pb2.Report(**fields)


def submitted(request: reports_pb2.SubmitReportRequest) -> reports_pb2.Report:
    """What reports answers to SubmitReport: the request echoed as a fresh, unassigned report."""
    return report_pb(
        id="r-new", kind=request.kind, category_code=request.category_code, description=request.description,
        location=request.location if request.HasField("location") else None, visibility=request.visibility,
        anonymous=request.anonymous, status=reports_pb2.REPORT_STATUS_SUBMITTED, agency_code="",
        agency_name=None, ack_due_at=None, version=1, timeline=[])


def registered(request: identity_pb2.RegisterRequest) -> identity_pb2.RegisterResponse:
    user = user_pb()
    user.phone, user.full_name, user.language = request.phone, request.full_name, request.language
    user.home_ward_code = request.home_ward_code
    return identity_pb2.RegisterResponse(user=user)


# RPC name -> canned answer built from the request (FakePeers.replies / failures override it).
DEFAULT_REPLIES: dict[str, Callable[[Any, FakePeers], Any]] = {
    "Register": lambda req, peers: registered(req),
    "Login": lambda req, peers: identity_pb2.TokenPair(access_token="at-1", refresh_token="rt-1", expires_in=900,
                                                       token_type="Bearer"),
    "Refresh": lambda req, peers: identity_pb2.TokenPair(access_token="at-2", refresh_token="rt-2",
                                                         expires_in=900, token_type="Bearer"),
    "Logout": lambda req, peers: identity_pb2.LogoutResponse(),
    "GetJwks": lambda req, peers: identity_pb2.GetJwksResponse(jwks_json=peers.keys.jwks()),
    "GetMe": lambda req, peers: user_pb(),
    "SubmitReport": lambda req, peers: submitted(req),
    "GetReport": lambda req, peers: report_pb(id=req.id),
    "ListCategories": lambda req, peers: reports_pb2.ListCategoriesResponse(categories=[reports_pb2.Category(
        code="road_pothole", name=common_pb2.LocalizedText(vi="Ổ gà", en="Pothole"),
        kind=reports_pb2.REPORT_KIND_INCIDENT, group="roads", active=True, photo_required=True)]),
    "ListWards": lambda req, peers: reports_pb2.ListWardsResponse(wards=[
        reports_pb2.Ward(code="26734", name="Phường Sài Gòn", division_type="phường")]),
    "ListAgencies": lambda req, peers: routing_pb2.ListAgenciesResponse(
        agencies=[routing_pb2.Agency(code="ubnd_26734", name=common_pb2.LocalizedText(vi="UBND", en="PC"),
                                     kind="ward_committee", parent_code="ioc", ward_code="26734")],
        page=common_pb2.PageResponse(next_cursor="" if req.page.cursor else "c-2")),
    "ListNotifications": lambda req, peers: notify_pb2.ListNotificationsResponse(
        notifications=[notify_pb2.Notification(id="n-1", type="report_assigned", title="Đã chuyển", body="...",
                                               report_id="r-1", read=False, created_at=ts())],
        page=common_pb2.PageResponse(next_cursor=""), unread_count=3),
    "MarkRead": lambda req, peers: notify_pb2.MarkReadResponse(updated=len(req.ids) or 7),
}


def fake_servicer(base: type, peers: FakePeers) -> object:
    """An instance of a generated servicer base whose every RPC records the call and answers."""

    def rpc(name: str) -> Callable:
        async def method(self, request, context):  # noqa: ANN001, ANN202
            reply = await peers.handle(name, request, context)
            return reply if reply is not None else DEFAULT_REPLIES[name](request, peers)
        return method

    methods = {name: rpc(name) for name in DEFAULT_REPLIES if hasattr(base, name)}
    return type(f"Fake{base.__name__}", (base,), methods)()


@asynccontextmanager
async def serve_peers(peers: FakePeers) -> AsyncIterator[str]:
    """The four fake services plus grpc.health.v1 on 127.0.0.1:<free port>; yields the address."""
    server = grpc.aio.server()
    for module, service in ((identity_pb2_grpc, "IdentityService"), (reports_pb2_grpc, "ReportsService"),
                            (routing_pb2_grpc, "RoutingService"), (notify_pb2_grpc, "NotifyService")):
        base = getattr(module, f"{service}Servicer")
        getattr(module, f"add_{service}Servicer_to_server")(fake_servicer(base, peers), server)
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


async def dead_addr() -> str:
    """The address of a gRPC server that was started and stopped (nothing listens there now)."""
    server = grpc.aio.server()
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    await server.stop(0)
    return f"127.0.0.1:{port}"


@asynccontextmanager
async def run_gateway(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The real app under uvicorn on a free port, lifespan included; yields a client for it."""
    # proxy_headers off as in gateway.__main__: the app itself trusts only GATEWAY_TRUSTED_PROXIES.
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, lifespan="on", log_config=None,
                            access_log=False, server_header=False, date_header=True, proxy_headers=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False, timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        await task


def settings_for(addr: str, **overrides: object) -> GatewaySettings:
    """Settings pointing every backend at `addr` (overrides win)."""
    values: dict = dict(identity_grpc_addr=addr, reports_grpc_addr=addr, routing_grpc_addr=addr,
                        notify_grpc_addr=addr, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    return GatewaySettings(**{**values, **overrides})


@pytest.fixture
def keys() -> SigningKeys:
    return SigningKeys()


@pytest.fixture
async def peers(keys: SigningKeys) -> AsyncIterator[FakePeers]:
    fake = FakePeers(keys)
    async with serve_peers(fake) as addr:
        fake.addr = addr
        yield fake


@pytest.fixture
def start_gateway(peers: FakePeers) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    """`async with start_gateway(**settings_overrides) as client`: a gateway in front of the fakes."""
    return lambda **overrides: run_gateway(settings_for(peers.addr, **overrides))


@pytest.fixture
async def client(start_gateway) -> AsyncIterator[httpx.AsyncClient]:  # noqa: ANN001
    async with start_gateway() as http:
        yield http


@pytest.fixture
async def dead_backend() -> str:
    """The address of a backend that has stopped."""
    return await dead_addr()


@pytest.fixture
def bearer(keys: SigningKeys) -> Callable[..., dict[str, str]]:
    """Authorization headers with a fresh valid token (claims may be overridden)."""
    return lambda **claims: {"Authorization": f"Bearer {keys.token(**claims)}"}


@pytest.fixture
def make_report() -> Callable[..., reports_pb2.Report]:
    """Builder of Report protos (a full assigned report unless fields are overridden)."""
    return report_pb

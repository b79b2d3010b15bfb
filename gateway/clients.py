"""The four gRPC channels and stubs the gateway talks to, opened in the app's lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from fastapi import Request
from grpc_health.v1 import health_pb2, health_pb2_grpc

from congdanso.identity.v1 import identity_pb2, identity_pb2_grpc
from congdanso.notify.v1 import notify_pb2_grpc
from congdanso.reports.v1 import reports_pb2_grpc
from congdanso.routing.v1 import routing_pb2_grpc
from gateway.config import GatewaySettings
from servicekit.grpcclient import auth_metadata, channel
from servicekit.idempotency import METADATA_KEY as IDEMPOTENCY_METADATA_KEY

T = TypeVar("T")
BACKENDS = ("identity", "reports", "routing", "notify")


class Backends:
    """Channels to identity, reports, routing and notify with their stubs; one per process."""

    def __init__(self, settings: GatewaySettings):
        self.deadline = settings.grpc_deadline_s
        addrs = {"identity": settings.identity_grpc_addr, "reports": settings.reports_grpc_addr,
                 "routing": settings.routing_grpc_addr, "notify": settings.notify_grpc_addr}
        self.channels: dict[str, grpc.aio.Channel] = {name: channel(addr) for name, addr in addrs.items()}
        self.identity = identity_pb2_grpc.IdentityServiceStub(self.channels["identity"])
        self.reports = reports_pb2_grpc.ReportsServiceStub(self.channels["reports"])
        self.routing = routing_pb2_grpc.RoutingServiceStub(self.channels["routing"])
        self.notify = notify_pb2_grpc.NotifyServiceStub(self.channels["notify"])
        self.health = {name: health_pb2_grpc.HealthStub(ch) for name, ch in self.channels.items()}

    async def call(self, stub_method: Callable[..., Awaitable[T]], request: Any, token: str | None = None, *,
                   idempotency_key: str | None = None) -> T:
        """Invoke one RPC with the caller's bearer token (and Idempotency-Key) forwarded and the gateway's deadline."""
        metadata = auth_metadata(token)
        if idempotency_key:
            metadata += ((IDEMPOTENCY_METADATA_KEY, idempotency_key),)
        return await stub_method(request, metadata=metadata, timeout=self.deadline)

    async def fetch_jwks(self) -> str:
        """Identity's public key set (JSON), for the JWT verifier and /.well-known/jwks.json."""
        reply = await self.call(self.identity.GetJwks, identity_pb2.GetJwksRequest())
        return reply.jwks_json

    async def check(self, name: str, timeout: float) -> str:
        """"ok" when the backend's grpc.health.v1 reports SERVING within `timeout`, else why not."""
        try:
            reply = await self.health[name].Check(health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            return exc.code().name.lower()
        if reply.status == health_pb2.HealthCheckResponse.SERVING:
            return "ok"
        return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status).lower()

    async def check_all(self, timeout: float) -> dict[str, str]:
        """Every backend's health, checked concurrently."""
        results = await asyncio.gather(*(self.check(name, timeout) for name in BACKENDS))
        return dict(zip(BACKENDS, results, strict=True))

    async def close(self) -> None:
        """Close every channel (in-flight calls are cancelled)."""
        await asyncio.gather(*(ch.close() for ch in self.channels.values()))


async def backends(request: Request) -> Backends:
    """FastAPI dependency: the process's Backends, opened in the lifespan (async: no thread-pool hop)."""
    return request.app.state.backends

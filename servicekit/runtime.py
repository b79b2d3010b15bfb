"""Process wiring shared by every service: DB, NATS, outbox relay, consumers, gRPC, signals, drain."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from sqlalchemy import Table

from servicekit import natsio
from servicekit.auth import JwtVerifier
from servicekit.db import make_engine, session_factory
from servicekit.grpcserver import GrpcServer
from servicekit.heap import freeze_startup_heap
from servicekit.inbox import BatchHandler, Consumer, Handler
from servicekit.logs import setup_logging
from servicekit.outbox import OutboxRelay
from servicekit.settings import CommonSettings
from servicekit.telemetry import setup_tracing, shutdown_tracing
from servicekit.uow import UnitOfWork

log = logging.getLogger(__name__)


class ServiceRuntime:
    """Owns one service's connections and background tasks for the life of the process."""

    def __init__(self, name: str, settings: CommonSettings, *, database_url: str, listen: str,
                 outbox: Table, inbox: Table, uow_class: Callable[..., UnitOfWork]):
        self.name, self.settings, self.listen = name, settings, listen
        self.database_url, self.outbox, self.inbox, self.uow_class = database_url, outbox, inbox, uow_class
        self.consumers: list[Consumer] = []
        self.background: list[Callable[[], Awaitable[None]]] = []
        self._tasks: list[asyncio.Task] = []
        self.stop_requested = asyncio.Event()

    async def open(self) -> None:
        """Logging, tracing, database engine, NATS connection, streams and the outbox relay."""
        setup_logging(self.name, self.settings.log_level)
        setup_tracing(self.name, self.settings.otlp_endpoint)
        self.engine = make_engine(self.database_url)
        self.sessions = session_factory(self.engine)
        self.nc = await natsio.connect(self.settings.nats_url, name=self.name)
        self.js = self.nc.jetstream(timeout=5)
        await natsio.ensure_streams(self.js)
        self.relay = OutboxRelay(self.engine, self.outbox, self.js, lock_name=f"{self.name}-outbox")

    def uow(self, *, read_only: bool = False):  # noqa: ANN201
        """A fresh unit of work that wakes the relay after commit (`read_only`: queries only)."""
        return self.uow_class(self.sessions, self.outbox, self.relay.notify, read_only=read_only)

    def consume(self, purpose: str, stream: str, subjects: list[str], handler: Handler,
                batch_handler: BatchHandler | None = None) -> Consumer:
        """Register a durable consumer `<service>-<purpose>` (`batch_handler`: see servicekit.inbox)."""
        consumer = Consumer(self.js, service=self.name, purpose=purpose, stream=stream, subjects=subjects,
                            handler=handler, uow_factory=self.uow, inbox=self.inbox, batch_handler=batch_handler)
        self.consumers.append(consumer)
        return consumer

    def verifier(self, fetch_jwks: Callable[[], Awaitable[str]]) -> JwtVerifier:
        """A token verifier using this deployment's issuer and audience."""
        return JwtVerifier(fetch_jwks, issuer=self.settings.jwt_issuer, audience=self.settings.jwt_audience)

    def grpc_server(self, fetch_jwks: Callable[[], Awaitable[str]]) -> GrpcServer:
        """The service's gRPC server, bound now, verifying tokens against `fetch_jwks`."""
        return GrpcServer(self.listen, verifier=self.verifier(fetch_jwks),
                          internal_token=self.settings.internal_token)

    async def serve(self, server: GrpcServer) -> None:
        """Start everything, wait for SIGTERM/SIGINT, then drain and close."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop_requested.set)
        self._tasks = [asyncio.create_task(self.relay.run(), name="outbox-relay")]
        self._tasks += [asyncio.create_task(c.run(), name=c.durable) for c in self.consumers]
        self._tasks += [asyncio.create_task(job(), name=getattr(job, "__name__", "job")) for job in self.background]
        await server.start()
        frozen = freeze_startup_heap()
        log.info("service started", extra={"listen": self.listen, "frozen_objects": frozen})
        await self.stop_requested.wait()
        log.info("draining")
        await server.stop(self.settings.shutdown_grace)
        await self.close()

    async def close(self) -> None:
        """Stop background loops, flush NATS and spans, dispose the engine."""
        for consumer in self.consumers:
            consumer.stop()
        self.relay.stop()
        done, pending = await asyncio.wait(self._tasks, timeout=2.0) if self._tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        try:
            # Not drain(): it waits up to 30 s on idle pull subscriptions. Everything unacked is
            # redelivered and everything unpublished stays in the outbox, so close is safe.
            await self.nc.flush(timeout=1)
            await self.nc.close()
        except Exception:  # noqa: BLE001 - already closed or disconnected
            pass
        await self.engine.dispose()
        shutdown_tracing()

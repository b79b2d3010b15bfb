"""gRPC server builder: grpc.aio + health + reflection + auth/error interceptor + OTel + drain."""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from servicekit.auth import JwtVerifier, bearer, current_principal
from servicekit.errors import AppError

log = logging.getLogger(__name__)

ERROR_CODE_KEY = "cds-error-code"
ERROR_FIELD_KEY = "cds-error-field"


class AppInterceptor(grpc.aio.ServerInterceptor):
    """Verifies a bearer token when present and maps AppError to status + stable code metadata."""

    def __init__(self, verifier: JwtVerifier | None):
        self.verifier = verifier

    async def intercept_service(self, continuation, details):  # noqa: ANN001
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner, verifier = handler.unary_unary, self.verifier

        async def unary(request, context):  # noqa: ANN001
            token_var = None
            try:
                token = bearer(context.invocation_metadata())
                if token and verifier is not None:
                    token_var = current_principal.set(await verifier.verify(token))
                return await inner(request, context)
            except AppError as err:
                trailing = [(ERROR_CODE_KEY, err.code)]
                if err.field:
                    trailing.append((ERROR_FIELD_KEY, err.field))
                context.set_trailing_metadata(tuple(trailing))
                await context.abort(getattr(grpc.StatusCode, err.status), str(err))
            except grpc.aio.AbortError:
                raise
            except Exception:
                # Unexpected: log it with the trace id, answer INTERNAL without internals.
                log.exception("unhandled error", extra={"rpc": details.method})
                context.set_trailing_metadata(((ERROR_CODE_KEY, "internal"),))
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")
            finally:
                if token_var is not None:
                    current_principal.reset(token_var)

        return handler._replace(unary_unary=unary)


class GrpcServer:
    """One grpc.aio server with health and reflection; NOT_SERVING then drain on stop."""

    def __init__(self, listen: str, *, verifier: JwtVerifier | None):
        self.listen = listen
        self.server = grpc.aio.server(
            interceptors=[aio_server_interceptor(), AppInterceptor(verifier)],
            options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 * 1024 * 1024)],
        )
        self.health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._names = [reflection.SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        # Bind at once, before the process opens outgoing connections: the dev ports (5005x) lie in
        # Linux's ephemeral range, and an early bind keeps our own client sockets off them.
        if self.server.add_insecure_port(listen) == 0:
            raise RuntimeError(f"cannot listen on {listen}")

    def add(self, register: Callable, servicer: object, full_name: str) -> None:
        """Register a servicer (e.g. add_ReportsServiceServicer_to_server) under its full name."""
        register(servicer, self.server)
        self._names.append(full_name)

    async def start(self) -> None:
        """Bind, start and report SERVING."""
        reflection.enable_server_reflection(self._names, self.server)
        await self.server.start()
        for name in ["", *self._names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("grpc serving", extra={"listen": self.listen})

    async def stop(self, grace: float) -> None:
        """Report NOT_SERVING, then let in-flight calls finish for up to `grace` seconds."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)

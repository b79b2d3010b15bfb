"""gRPC server builder: grpc.aio + health + reflection + auth/error interceptor + OTel + drain."""

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor

from servicekit.auth import JwtVerifier, Principal, bearer, current_principal, internal_caller
from servicekit.errors import AppError

log = logging.getLogger(__name__)

ERROR_CODE_KEY = "cds-error-code"
ERROR_FIELD_KEY = "cds-error-field"


class AppInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates the caller (bearer JWT or the internal service token) and maps AppError to a
    status plus stable code metadata; unexpected errors become INTERNAL without details."""

    def __init__(self, verifier: JwtVerifier | None, internal_token: str = ""):
        self.verifier, self.internal_token = verifier, internal_token

    async def _principal(self, metadata) -> Principal | None:  # noqa: ANN001
        """The caller: a peer service (internal token) or a user (verified bearer token)."""
        service = internal_caller(metadata, self.internal_token)
        if service:
            return Principal(user_id=f"service:{service}", role="service")
        token = bearer(metadata)
        if token and self.verifier is not None:
            return await self.verifier.verify(token)
        return None

    async def _fail(self, context, err: Exception, method: str) -> None:  # noqa: ANN001
        """Abort with the error's status and stable code."""
        if isinstance(err, AppError):
            trailing = [(ERROR_CODE_KEY, err.code)] + ([(ERROR_FIELD_KEY, err.field)] if err.field else [])
            context.set_trailing_metadata(tuple(trailing))
            await context.abort(getattr(grpc.StatusCode, err.status), str(err))
        log.exception("unhandled error", extra={"rpc": method}, exc_info=err)
        context.set_trailing_metadata(((ERROR_CODE_KEY, "internal"),))
        await context.abort(grpc.StatusCode.INTERNAL, "internal error")

    async def intercept_service(self, continuation, details):  # noqa: ANN001
        handler = await continuation(details)
        if handler is None:
            return handler
        if handler.unary_unary is not None:
            return handler._replace(unary_unary=self._wrap_unary(handler.unary_unary, details.method))
        if handler.unary_stream is not None:
            return handler._replace(unary_stream=self._wrap_stream(handler.unary_stream, details.method))
        return handler

    def _wrap_unary(self, inner, method: str):  # noqa: ANN001, ANN202
        async def unary(request, context):  # noqa: ANN001
            token_var = None
            try:
                token_var = current_principal.set(await self._principal(context.invocation_metadata()))
                return await inner(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as err:  # noqa: BLE001 - mapped to a status here, once
                await self._fail(context, err, method)
            finally:
                if token_var is not None:
                    current_principal.reset(token_var)
        return unary

    def _wrap_stream(self, inner, method: str):  # noqa: ANN001, ANN202
        async def stream(request, context):  # noqa: ANN001
            token_var = None
            try:
                token_var = current_principal.set(await self._principal(context.invocation_metadata()))
                async for item in inner(request, context):
                    yield item
            except grpc.aio.AbortError:
                raise
            except Exception as err:  # noqa: BLE001
                await self._fail(context, err, method)
            finally:
                if token_var is not None:
                    current_principal.reset(token_var)
        return stream


class GrpcServer:
    """One grpc.aio server with health and reflection; NOT_SERVING then drain on stop."""

    def __init__(self, listen: str, *, verifier: JwtVerifier | None, internal_token: str = ""):
        self.listen = listen
        self.server = grpc.aio.server(
            interceptors=[aio_server_interceptor(), AppInterceptor(verifier, internal_token)],
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

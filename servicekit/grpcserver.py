"""gRPC server builder: grpc.aio + health + reflection + auth/error interceptor + OTel + drain,
and Idempotency-Key for the creating RPCs a service names (storage in servicekit.idempotency)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.auth import JwtVerifier, Principal, bearer, current_principal, internal_caller
from servicekit.errors import ERROR_CODE_KEY, ERROR_FIELD_KEY, AppError
from servicekit.idempotency import (
    METADATA_KEY, OK, RECORDED_ERRORS, IdempotencyStore, Recorded, Reservation, check_key, request_hash,
)

log = logging.getLogger(__name__)



def _passthrough(serializer: Callable[[object], bytes] | None) -> Callable[[object], bytes]:
    """A response serializer that sends recorded bytes as they are and serializes messages as before."""
    def serialize(response: object) -> bytes:
        if isinstance(response, bytes):
            return response
        return serializer(response) if serializer else response  # type: ignore[return-value]
    return serialize


def _retrieve(task: asyncio.Task) -> None:
    """Mark a shielded handler's outcome as seen (its caller may be gone)."""
    if not task.cancelled():
        task.exception()


class Idempotency:
    """Replays the recorded answer of a creating RPC sent again with the same `idempotency-key`."""

    def __init__(self, store: IdempotencyStore, methods: Iterable[str]):
        self.store, self.methods = store, frozenset(methods)

    async def call(self, method: str, request, context, inner):  # noqa: ANN001, ANN201
        """Run `inner` at most once per (caller, key, method); without a key or a caller, just run it."""
        key = next((v for k, v in context.invocation_metadata() or () if k == METADATA_KEY), None)
        principal = current_principal.get()
        if key is None or principal is None:
            return await inner(request, context)
        reservation = Reservation(principal.user_id, check_key(str(key)), method,
                                  request_hash(request.SerializeToString(deterministic=True)))
        recorded = await self.store.reserve(reservation)
        if recorded is not None:
            if recorded.status == OK:
                return recorded.response  # bytes, sent unchanged by the passthrough serializer
            raise recorded.error()
        # Shielded: a caller that gives up (deadline, disconnect) must not cut the handler between its
        # commit and the record, or a retry would repeat the effect.
        task = asyncio.ensure_future(self._run(reservation, request, context, inner))
        task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def _run(self, reservation: Reservation, request, context, inner):  # noqa: ANN001, ANN202
        try:
            response = await inner(request, context)
        except AppError as err:
            if err.status in RECORDED_ERRORS:
                await self._settle(self.store.record(reservation, Recorded(
                    err.status, code=err.code, message=str(err), field=err.field)))
            else:
                await self._settle(self.store.release(reservation))
            raise
        except BaseException:
            await self._settle(self.store.release(reservation))
            raise
        await self._settle(self.store.record(reservation, Recorded(OK, response=response.SerializeToString())))
        return response

    @staticmethod
    async def _settle(step: Awaitable[None]) -> None:
        """Record or release; the handler's own outcome matters more than a failed bookkeeping write."""
        try:
            await step
        except Exception:  # noqa: BLE001 - the reservation expires after its lease
            log.warning("idempotency record failed", exc_info=True)


def _method_path(name: str) -> str:
    """"/pkg.Service/Method" (also accepted without the leading slash), checked against the loaded protos."""
    path = name if name.startswith("/") else f"/{name}"
    service, _, method = path[1:].partition("/")
    try:
        descriptor_pool.Default().FindMethodByName(f"{service}.{method}")
    except KeyError as exc:
        raise ValueError(f"idempotency: unknown gRPC method {name!r}") from exc
    return path


class AppInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates the caller (bearer JWT or the internal service token) and maps AppError to a
    status plus stable code metadata; unexpected errors become INTERNAL without details."""

    def __init__(self, verifier: JwtVerifier | None, internal_token: str = ""):
        self.verifier, self.internal_token = verifier, internal_token
        self.idempotency: Idempotency | None = None

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
            if self.idempotency is not None and details.method in self.idempotency.methods:
                return handler._replace(unary_unary=self._wrap_unary(handler.unary_unary, details.method),
                                        response_serializer=_passthrough(handler.response_serializer))
            return handler._replace(unary_unary=self._wrap_unary(handler.unary_unary, details.method))
        if handler.unary_stream is not None:
            return handler._replace(unary_stream=self._wrap_stream(handler.unary_stream, details.method))
        return handler

    def _wrap_unary(self, inner, method: str):  # noqa: ANN001, ANN202
        async def unary(request, context):  # noqa: ANN001
            token_var = None
            try:
                token_var = current_principal.set(await self._principal(context.invocation_metadata()))
                if self.idempotency is not None and method in self.idempotency.methods:
                    return await self.idempotency.call(method, request, context, inner)
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


class _HealthServicer(health_aio.HealthServicer):
    """grpc's health service with `Watch` as an async generator.

    The stock `Watch` writes through `context.write()` from a plain coroutine; streaming
    interceptors (OpenTelemetry's, ours) iterate the handler with `async for` and fail on it.
    """

    async def Watch(self, request, context):  # noqa: ANN001, N802
        queue: asyncio.Queue = asyncio.Queue()

        class _Writes:  # the real context, except that writes come back to this generator
            def __getattr__(self, name: str):  # noqa: ANN204
                return getattr(context, name)

            async def write(self, message) -> None:  # noqa: ANN001
                await queue.put(message)

        watcher = asyncio.ensure_future(super().Watch(request, _Writes()))
        try:
            while True:
                item = asyncio.ensure_future(queue.get())
                await asyncio.wait({item, watcher}, return_when=asyncio.FIRST_COMPLETED)
                if not item.done():
                    item.cancel()
                    return
                yield item.result()
        finally:
            watcher.cancel()


class GrpcServer:
    """One grpc.aio server with health and reflection; NOT_SERVING then drain on stop."""

    def __init__(self, listen: str, *, verifier: JwtVerifier | None, internal_token: str = ""):
        self.listen = listen
        self.interceptor = AppInterceptor(verifier, internal_token)
        self.server = grpc.aio.server(
            interceptors=[aio_server_interceptor(), self.interceptor],
            options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 * 1024 * 1024)],
        )
        self.health = _HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._names = [reflection.SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        # Bind at once, before the process opens outgoing connections: the dev ports (5005x) lie in
        # Linux's ephemeral range, and an early bind keeps our own client sockets off them.
        self.port = self.server.add_insecure_port(listen)
        if self.port == 0:
            raise RuntimeError(f"cannot listen on {listen}")

    def add(self, register: Callable, servicer: object, full_name: str) -> None:
        """Register a servicer (e.g. add_ReportsServiceServicer_to_server) under its full name."""
        register(servicer, self.server)
        self._names.append(full_name)

    def enable_idempotency(self, engine: AsyncEngine, table: Table, *, methods: Iterable[str],
                           **store_options: object) -> None:
        """Honour the `idempotency-key` metadata on these full method names ("/pkg.Service/Method"),
        remembering answers in `table` (servicekit.idempotency.idempotency_table) of `engine`'s database."""
        paths = [_method_path(m) for m in methods]
        self.interceptor.idempotency = Idempotency(IdempotencyStore(engine, table, **store_options), paths)

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

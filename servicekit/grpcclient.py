"""gRPC client channels with OTel propagation and the caller's token forwarded."""

from __future__ import annotations

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors


def channel(addr: str) -> grpc.aio.Channel:
    """An insecure channel to a peer inside the platform, instrumented for tracing."""
    return grpc.aio.insecure_channel(
        addr, interceptors=aio_client_interceptors(),
        options=[("grpc.keepalive_time_ms", 30_000), ("grpc.enable_retries", 1),
                 # reconnect within seconds after a peer restarts (default back-off reaches 120 s)
                 ("grpc.initial_reconnect_backoff_ms", 500), ("grpc.max_reconnect_backoff_ms", 5000),
                 ("grpc.enable_http_proxy", 0)],
    )


def auth_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """Metadata carrying a bearer token (empty when anonymous)."""
    return (("authorization", f"Bearer {token}"),) if token else ()


def internal_metadata(service: str, token: str) -> tuple[tuple[str, str], ...]:
    """Metadata authenticating a call from one of the platform's own services (see auth.internal_caller)."""
    return (("x-cds-internal", f"{service}:{token}"),) if token else ()

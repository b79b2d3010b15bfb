"""OpenTelemetry tracing: provider, exporter choice, and W3C context through NATS headers.

The SDK is imported when tracing is set up and the OTLP exporter (grpc, protobuf: the heaviest
import of all) only when an endpoint is configured; modules that only carry context need neither.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import context, propagate, trace

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider


def setup_tracing(service: str, otlp_endpoint: str = "") -> TracerProvider:
    """Install a tracer provider: OTLP when an endpoint is set, console when asked, else none."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint, insecure=True))
        )
    elif os.environ.get("CDS_TRACE_CONSOLE") == "1":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


def inject_headers() -> dict[str, str]:
    """The current trace context as W3C headers (traceparent, tracestate)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str] | None) -> context.Context:
    """A context whose parent is the span described by W3C headers (or the empty context)."""
    return propagate.extract(dict(headers or {}))


def shutdown_tracing() -> None:
    """Flush spans still buffered before the process exits."""
    shutdown = getattr(trace.get_tracer_provider(), "shutdown", None)  # the API's default provider has none
    if shutdown is not None:
        shutdown()

"""A real OTLP/gRPC trace receiver the tests control: services export spans to it over a socket."""

from __future__ import annotations

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


class TraceSink(trace_service_pb2_grpc.TraceServiceServicer):
    """Keeps (service.name, trace id hex, span name) of every exported span."""

    def __init__(self):
        self.spans: list[tuple[str, str, str]] = []

    async def Export(self, request, context):  # noqa: ANN001, N802
        for rs in request.resource_spans:
            service = next((a.value.string_value for a in rs.resource.attributes if a.key == "service.name"), "")
            for ss in rs.scope_spans:
                for span in ss.spans:
                    self.spans.append((service, span.trace_id.hex(), span.name))
        return trace_service_pb2.ExportTraceServiceResponse()

    def services_in_trace(self, trace_id: str) -> set[str]:
        return {s for s, t, _ in self.spans if t == trace_id}

    async def start(self) -> str:
        self.server = grpc.aio.server()
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        await self.server.start()
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self.server.stop(0)

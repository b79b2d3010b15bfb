"""The standard gRPC health service through our interceptor, over a real socket."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from servicekit.grpcserver import GrpcServer


async def test_health_watch_streams_serving_then_not_serving_on_stop():
    server = GrpcServer("127.0.0.1:0", verifier=None)
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        stub = health_pb2_grpc.HealthStub(channel)
        check = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
        assert check.status == health_pb2.HealthCheckResponse.SERVING
        watch = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
        first = await watch.read()
        assert first.status == health_pb2.HealthCheckResponse.SERVING
        await server.health.enter_graceful_shutdown()
        second = await watch.read()
        assert second.status == health_pb2.HealthCheckResponse.NOT_SERVING
        watch.cancel()
    finally:
        await channel.close()
        await server.stop(0)

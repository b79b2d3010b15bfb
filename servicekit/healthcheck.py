"""Readiness probes: gRPC health (grpc.health.v1) and HTTP, as one-shot checks, as waits, and as a CLI.

CLI (used by compose healthchecks)::

    python -m servicekit.healthcheck 127.0.0.1:50051        # exit 0 iff SERVING
    python -m servicekit.healthcheck --http http://127.0.0.1:8080/readyz
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

# Probes target local or in-cluster addresses; a proxy from the environment must not intercept them.
_CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]
_FAST_RECONNECT = [("grpc.initial_reconnect_backoff_ms", 50), ("grpc.min_reconnect_backoff_ms", 50),
                   ("grpc.max_reconnect_backoff_ms", 250)]


async def check_grpc(addr: str, timeout: float = 2.0) -> bool:
    """Return True iff the gRPC server at addr reports the overall service ("") as SERVING."""
    request = health_pb2.HealthCheckRequest(service="")
    try:
        async with grpc.aio.insecure_channel(addr, options=_CHANNEL_OPTIONS) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(request, timeout=timeout)
    except grpc.RpcError:
        return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


async def wait_grpc_serving(addr: str, timeout: float) -> bool:
    """Return True as soon as the server at addr reports "" SERVING, False after timeout seconds.

    One channel for the whole wait. It retries a refused connection every 50-250 ms (gRPC's default
    back-off starts at 1 s), and wait_for_ready holds each Check until the process has bound and
    started instead of failing at once, so a process still starting costs about one call a second;
    once it answers (NOT_FOUND or NOT_SERVING until it reports SERVING) it is asked again quickly.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    request = health_pb2.HealthCheckRequest(service="")
    async with grpc.aio.insecure_channel(addr, options=[*_CHANNEL_OPTIONS, *_FAST_RECONNECT]) as channel:
        stub = health_pb2_grpc.HealthStub(channel)

        async def serving() -> bool:
            left = deadline - loop.time()
            try:
                reply = await stub.Check(request, timeout=min(1.0, max(left, 0.01)), wait_for_ready=True)
            except grpc.aio.AioRpcError:
                return False
            return reply.status == health_pb2.HealthCheckResponse.SERVING

        return await _poll(serving, deadline)


async def wait_http_ok(url: str, timeout: float) -> bool:
    """Return True as soon as a GET on url answers 200, False after timeout seconds (one client, polling
    every 20 ms at first, backing off to 250 ms)."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(trust_env=False) as client:
        async def ok() -> bool:
            left = deadline - asyncio.get_running_loop().time()
            try:
                return (await client.get(url, timeout=min(1.0, max(left, 0.01)))).status_code == 200
            except httpx.HTTPError:
                return False
        return await _poll(ok, deadline)


async def _poll(probe: Callable[[], Awaitable[bool]], deadline: float) -> bool:
    """Call probe until it returns True or the loop clock passes deadline; 20 ms apart, growing to 250 ms."""
    loop, interval = asyncio.get_running_loop(), 0.02
    while True:
        if await probe():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(min(interval, max(deadline - loop.time(), 0)))
        interval = min(interval * 1.5, 0.25)


async def check_http(url: str, timeout: float = 2.0) -> bool:
    """Return True iff a GET on url answers 200."""
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line: one gRPC host:port, or --http URL."""
    parser = argparse.ArgumentParser(prog="python -m servicekit.healthcheck", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("addr", nargs="?", help="gRPC host:port to probe with grpc.health.v1 Check")
    target.add_argument("--http", metavar="URL", help="HTTP URL that must answer 200")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds (default 2)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run one probe and return the process exit code (0 healthy, 1 not)."""
    args = _parse_args(argv)
    if args.http:
        healthy = asyncio.run(check_http(args.http, args.timeout))
    else:
        healthy = asyncio.run(check_grpc(args.addr, args.timeout))
    target = args.http or args.addr
    print(f"{target}: {'healthy' if healthy else 'NOT healthy'}", file=sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())

"""Readiness probes: gRPC health (grpc.health.v1) and HTTP, as functions and as a CLI.

CLI (used by compose healthchecks)::

    python -m servicekit.healthcheck 127.0.0.1:50051        # exit 0 iff SERVING
    python -m servicekit.healthcheck --http http://127.0.0.1:8080/readyz
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

# Probes target local or in-cluster addresses; a proxy from the environment must not intercept them.
_CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]


async def check_grpc(addr: str, timeout: float = 2.0) -> bool:
    """Return True iff the gRPC server at addr reports the overall service ("") as SERVING."""
    request = health_pb2.HealthCheckRequest(service="")
    try:
        async with grpc.aio.insecure_channel(addr, options=_CHANNEL_OPTIONS) as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(request, timeout=timeout)
    except grpc.RpcError:
        return False
    return reply.status == health_pb2.HealthCheckResponse.SERVING


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

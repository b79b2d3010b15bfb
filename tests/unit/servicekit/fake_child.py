"""Stand-in for a service or the gateway in supervisor tests: real servers, real signals.

    fake_child.py serve <svc>      gRPC health server (SERVING) on <SVC>_GRPC_LISTEN
    fake_child.py serve gateway    HTTP server answering GET /readyz 200 on GATEWAY_HTTP_ADDR
    fake_child.py step <svc> <code> [message]   print a line and exit with <code>
Serving modes print "ready" once listening and "stopped on SIGTERM" before a clean exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc


async def serve_grpc(addr: str, stop: asyncio.Event) -> None:
    """Serve grpc.health.v1 with the overall status SERVING until stop is set."""
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(addr)
    await server.start()
    await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    print(f"ready grpc {addr}", flush=True)
    await stop.wait()
    await servicer.enter_graceful_shutdown()
    await server.stop(0.5)


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer one HTTP/1.1 request: 200 for /readyz, 404 otherwise."""
    try:
        request = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):  # a probe that gave up mid-request
        writer.close()
        return
    path = request.split(b" ", 2)[1]
    status = b"200 OK" if path == b"/readyz" else b"404 Not Found"
    writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    await writer.drain()
    writer.close()


async def serve_http(addr: str, stop: asyncio.Event) -> None:
    """Serve the gateway's /readyz until stop is set."""
    host, _, port = addr.rpartition(":")
    server = await asyncio.start_server(_answer, host, int(port))
    print(f"ready http {addr}", flush=True)
    await stop.wait()
    server.close()


async def serve(name: str) -> None:
    """Run the fake server for name until SIGTERM."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    if name == "gateway":
        await serve_http(os.environ["GATEWAY_HTTP_ADDR"], stop)
    else:
        await serve_grpc(os.environ[f"{name.upper()}_GRPC_LISTEN"], stop)
    print("stopped on SIGTERM", flush=True)


def main(argv: list[str]) -> int:
    """Dispatch on the mode in argv."""
    mode, name = argv[0], argv[1]
    if mode == "step":
        print(argv[3] if len(argv) > 3 else f"step {name} done", flush=True)
        return int(argv[2])
    asyncio.run(serve(name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

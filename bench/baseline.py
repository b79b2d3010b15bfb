"""Scenario 1's bare stack, each part its own process, started like the gateway (uvicorn + uvloop).

    python -m bench.baseline grpc ADDR            # a grpc.aio server with one unary Echo method
    python -m bench.baseline http ADDR [GRPC_ADDR] # FastAPI: GET /plain, and GET /echo (one Echo call)

No interceptors, no auth, no tracing, no database: the ceiling the platform is compared against.
"""

from __future__ import annotations

import asyncio
import signal
import sys

ECHO = "/bench.Echo/Echo"


def _split(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host, int(port)


async def _grpc_server(addr: str) -> None:
    import grpc

    async def echo(request: bytes, context) -> bytes:  # noqa: ANN001
        return request

    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}),))
    if server.add_insecure_port(addr) == 0:
        raise RuntimeError(f"cannot listen on {addr}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1)


def create_app(grpc_addr: str | None):  # noqa: ANN201
    """The bare FastAPI app; /echo holds one grpc.aio channel for the process, like the gateway."""
    from contextlib import asynccontextmanager

    import grpc
    from fastapi import FastAPI

    state: dict = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        if grpc_addr:
            state["channel"] = grpc.aio.insecure_channel(grpc_addr, options=[("grpc.enable_http_proxy", 0)])
            state["echo"] = state["channel"].unary_unary(ECHO)
        yield
        if "channel" in state:
            await state["channel"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/plain")
    async def plain() -> dict:
        return {"ok": True}

    @app.get("/echo")
    async def echo() -> dict:
        reply = await state["echo"](b"ping", timeout=5)
        return {"ok": reply == b"ping"}

    return app


def main(argv: list[str]) -> None:
    kind, addr = argv[0], argv[1]
    if kind == "grpc":
        asyncio.run(_grpc_server(addr))   # the services run grpc.aio on the stdlib loop too
        return
    import uvicorn

    host, port = _split(addr)
    uvicorn.run(create_app(argv[2] if len(argv) > 2 else None), host=host, port=port, loop="uvloop", http="httptools",
                lifespan="on", server_header=False, log_config=None, access_log=False)


if __name__ == "__main__":
    main(sys.argv[1:])

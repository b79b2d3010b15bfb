"""servicekit.healthcheck against real fake servers (subprocesses) and closed ports."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from servicekit.healthcheck import check_grpc, check_http, wait_grpc_serving, wait_http_ok

FAKE = Path(__file__).with_name("fake_child.py")
ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_until(probe, timeout: float = 10.0) -> None:
    """Poll an async probe until it returns True."""
    for _ in range(int(timeout / 0.05)):
        if await probe():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("probe never passed")


def start_fake(name: str, addr: str) -> subprocess.Popen:
    """Start fake_child serving name on addr."""
    env = {**os.environ, "IDENTITY_GRPC_LISTEN": addr, "GATEWAY_HTTP_ADDR": addr}
    return subprocess.Popen([sys.executable, str(FAKE), "serve", name], env=env, stdout=subprocess.DEVNULL)


@pytest.fixture
async def grpc_addr():
    """A fake gRPC service that reports SERVING."""
    addr = f"127.0.0.1:{free_port()}"
    proc = start_fake("identity", addr)
    await wait_until(lambda: check_grpc(addr, timeout=0.5))
    yield addr
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


@pytest.fixture
async def http_url():
    """A fake gateway whose /readyz answers 200."""
    addr = f"127.0.0.1:{free_port()}"
    proc = start_fake("gateway", addr)
    await wait_until(lambda: check_http(f"http://{addr}/readyz", timeout=0.5))
    yield f"http://{addr}"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


async def run_cli(*args: str) -> int:
    """Run `python -m servicekit.healthcheck args` and return its exit code."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "servicekit.healthcheck", *args, cwd=ROOT, stderr=asyncio.subprocess.DEVNULL)
    return await asyncio.wait_for(proc.wait(), 20)


async def test_check_grpc_is_true_for_a_serving_server(grpc_addr):
    assert await check_grpc(grpc_addr) is True


async def test_check_grpc_is_false_for_a_closed_port():
    assert await check_grpc(f"127.0.0.1:{free_port()}", timeout=1.0) is False


async def test_check_http_follows_the_status_code(http_url):
    assert await check_http(f"{http_url}/readyz") is True
    assert await check_http(f"{http_url}/nope") is False
    assert await check_http(f"http://127.0.0.1:{free_port()}/readyz", timeout=1.0) is False


async def test_wait_grpc_serving_returns_once_a_late_server_serves():
    addr = f"127.0.0.1:{free_port()}"
    waiting = asyncio.create_task(wait_grpc_serving(addr, timeout=20))
    await asyncio.sleep(1.5)  # refused connections meanwhile; the wait keeps retrying
    assert not waiting.done()
    proc = start_fake("identity", addr)
    try:
        loop = asyncio.get_running_loop()
        began = loop.time()
        assert await waiting is True
        assert loop.time() - began < 10
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


async def test_waits_give_up_after_their_timeout():
    loop = asyncio.get_running_loop()
    began = loop.time()
    assert await wait_grpc_serving(f"127.0.0.1:{free_port()}", timeout=0.5) is False
    assert await wait_http_ok(f"http://127.0.0.1:{free_port()}/readyz", timeout=0.5) is False
    assert loop.time() - began < 3


async def test_wait_http_ok_follows_the_status_code(http_url):
    assert await wait_http_ok(f"{http_url}/readyz", timeout=5) is True
    assert await wait_http_ok(f"{http_url}/nope", timeout=0.3) is False


async def test_cli_exits_0_against_a_serving_server(grpc_addr):
    assert await run_cli(grpc_addr) == 0


async def test_cli_exits_1_against_a_closed_port():
    assert await run_cli(f"127.0.0.1:{free_port()}", "--timeout", "1") == 1


async def test_cli_http_variant(http_url):
    assert await run_cli("--http", f"{http_url}/readyz") == 0
    assert await run_cli("--http", f"{http_url}/nope") == 1

"""The whole system for end-to-end tests: real processes started by the `make run` supervisor.

Each test module gets its own system (module-scoped fixture, its own event loop scope): mark
modules with `pytestmark = pytest.mark.asyncio(loop_scope="module")`.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest_asyncio

from servicekit.supervisor import Supervisor, SystemConfig
from tests.conftest import Databases
from tests.e2e.otlp_sink import TraceSink

CITIZEN = {"phone": "0901234567", "password": "congdan-demo-2025"}
OFFICER = {"phone": "0912345678", "password": "canbo-demo-2025"}      # ubnd_26743 (phường Bến Thành)
OPERATOR = {"phone": "0987654321", "password": "dieuhanh-demo-2025"}


class System:
    """Handles on the running system: supervisor, trace sink, an HTTP client on the gateway."""

    def __init__(self, sup: Supervisor, sink: TraceSink, http: httpx.AsyncClient, started_in: float):
        self.sup, self.sink, self.http, self.started_in = sup, sink, http, started_in

    async def token(self, creds: dict = CITIZEN) -> dict[str, str]:
        """Authorization header of a freshly logged-in account."""
        r = await self.http.post("/api/v1/auth/login", json=creds)
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def system(tmp_path_factory):
    root = tmp_path_factory.mktemp("system")
    dbs = Databases(root)
    sink = TraceSink()
    endpoint = await sink.start()
    cfg = SystemConfig.for_tests(
        root / "var", database_urls={s: dbs.url(s) for s in ("identity", "reports", "routing", "notify")},
        extra_env={"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"})
    sup = Supervisor(cfg)
    t0 = time.monotonic()
    await sup.start(timeout=90)
    started_in = time.monotonic() - t0
    async with httpx.AsyncClient(base_url=sup.urls()["gateway"], timeout=10) as http:
        yield System(sup, sink, http, started_in)
    await sup.stop()
    await sink.stop()
    dbs.drop_all()


async def poll(fn, timeout: float = 15.0, interval: float = 0.02):  # noqa: ANN001, ANN201
    """Call `fn` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = await fn()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(interval)

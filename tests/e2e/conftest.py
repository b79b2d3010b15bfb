"""The whole system for end-to-end tests: real processes started by the `make run` supervisor.

Each test module gets its own system (module-scoped fixture, its own event loop scope): mark
modules with `pytestmark = pytest.mark.asyncio(loop_scope="module")`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx
import pytest_asyncio

from servicekit.supervisor import Supervisor, SystemConfig
from tests.conftest import Databases
from tests.e2e.otlp_sink import TraceSink

CITIZEN = {"phone": "0901234567", "password": "congdan-demo-2025"}
OFFICER = {"phone": "0912345678", "password": "canbo-demo-2025"}      # ubnd_26743 (phường Bến Thành)
OPERATOR = {"phone": "0987654321", "password": "dieuhanh-demo-2025"}
PASSWORD = "mua-sai-gon-2025"


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


async def sms_code(system, phone_e164: str, *, after: int = 0) -> str:  # noqa: ANN001
    """The newest 6-digit code the development SMS provider wrote for `phone_e164` (line index > after)."""
    async def find() -> str | None:
        path = system.sup.cfg.sms_outbox
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        mine = [json.loads(x) for x in lines[after:] if json.loads(x)["to"] == phone_e164]
        return re.search(r"\b(\d{6})\b", mine[-1]["text"]).group(1) if mine else None
    return await poll(find)


def sms_count(system) -> int:  # noqa: ANN001
    """Lines in the SMS outbox so far."""
    path = system.sup.cfg.sms_outbox
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


async def signed_up(system, phone: str, e164: str, name: str = "Phạm Thị Dung") -> dict:  # noqa: ANN001
    """Register and verify a new resident; their token pair."""
    before = sms_count(system)
    r = await system.http.post("/api/v1/auth/register", json={"phone": phone, "password": PASSWORD,
                                                               "full_name": name, "language": "en"})
    assert r.status_code == 201, r.text
    v = await system.http.post("/api/v1/auth/verify", json={"phone": phone,
                                                             "code": await sms_code(system, e164, after=before)})
    assert v.status_code == 200, v.text
    return v.json()


def bearer(tokens: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}

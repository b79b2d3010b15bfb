"""What a bench run reports: its tables (figures against targets, CPU per process and job), the
run's metadata (machine, versions, git commit) and summaries of py-spy profiles."""

from __future__ import annotations

import platform
import subprocess
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from bench import procstat
from servicekit.supervisor import nats_binary

if TYPE_CHECKING:
    from bench.runner import Options, Run

ROOT = Path(__file__).resolve().parent.parent


def profile_summary(path: Path, top: int = 15) -> dict:
    """From py-spy's raw (collapsed) stacks: samples, and the functions most often on the stack /
    at the top of it (self time), with the platform's own frames kept apart from libraries'."""
    total, inclusive, leaf = 0, {}, {}
    for line in path.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [f.strip() for f in stack.split(";") if f.strip()]
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + count
        if frames:
            leaf[frames[-1]] = leaf.get(frames[-1], 0) + count

    def best(d: dict) -> list[list]:
        return [[f, round(100 * c / total, 1)] for f, c in sorted(d.items(), key=lambda kv: -kv[1])[:top]] if total else []

    ours = {f: c for f, c in inclusive.items() if any(k in f for k in ("services/", "servicekit/", "gateway/"))}
    return {"samples": total, "self_pct": best(leaf), "inclusive_pct_own_code": best(ours)}


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


def meta(opts: Options) -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    try:
        nats = subprocess.run([nats_binary(), "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        nats = "-"
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"), "sizes": asdict(opts.sizes),
        "database": "postgresql" if opts.postgres else "sqlite (embedded)", "postgres_version": "-",
        "git": {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain"))},
        "machine": {**procstat.machine(), "platform": platform.platform()},
        "versions": {"python": platform.python_version(), "nats-server": nats, **{
            d: _version(d) for d in ("fastapi", "starlette", "uvicorn", "uvloop", "httpx", "grpcio", "sqlalchemy",
                                     "aiosqlite", "asyncpg", "nats-py", "pydantic")}},
        "sqlite": __import__("sqlite3").sqlite_version,
        "scenarios": list(opts.scenarios),
    }


def table(result: Run) -> str:
    """The results as one Markdown table: figure, baseline, target, met."""
    def fmt(v) -> str:  # noqa: ANN001
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.1f}" if abs(v) >= 100 else f"{v:g}"
        return f"{v:,}" if isinstance(v, int) else str(v)

    lines = ["| scenario | metric | value | baseline | target | met | note |", "|---|---|---|---|---|---|---|"]
    for r in result.rows:
        met = {True: "yes", False: "**NO**", None: ""}[r["met"]]
        value = f"{fmt(r['value'])} {r['unit']}".strip()
        lines.append(f"| {r['scenario']} | {r['metric']} | {value} | {fmt(r['baseline'])} | {r['target']} | {met} | "
                     f"{r['note']} |")
    return "\n".join(lines)


def cpu_table(result: Run) -> str:
    """CPU seconds per process and scenario (and % of one core over the scenario's wall time)."""
    jobs = []
    for scenario, data in result.scenarios.items():
        for label, res in (data.items() if isinstance(data, dict) else []):
            if isinstance(res, dict) and "cpu" in res:
                jobs.append((f"{scenario}/{label}", res))
        if isinstance(data, dict) and "cpu" in data:
            jobs.append((scenario, data))
    names = sorted({n for _, res in jobs for n in res["cpu"]})
    lines = ["| job | wall s | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for label, res in jobs:
        cells = [f"{res['cpu'][n]['cpu_s']:g} s ({res['cpu'][n]['core_pct']:g}%)" if n in res["cpu"] else "-"
                 for n in names]
        lines.append(f"| {label} | {res['wall_s']:g} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

"""CPU time and memory of processes from /proc (Linux), so the harness needs no extra package."""

from __future__ import annotations

import os
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (None if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()   # after "pid (comm) "; field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int) -> float | None:
    """Resident set size in MiB (None if the process is gone)."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except OSError:
        return None
    return round(pages * PAGE / 2**20, 1)


def snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named process."""
    out = {}
    for name, pid in pids.items():
        value = cpu_seconds(pid)
        if value is not None:
            out[name] = value
    return out


def delta(before: dict[str, float], after: dict[str, float], wall_s: float) -> dict[str, dict[str, float]]:
    """CPU seconds per process between two snapshots, and as % of one core over wall_s."""
    out = {}
    for name, end in after.items():
        used = end - before.get(name, end)
        out[name] = {"cpu_s": round(used, 2), "core_pct": round(100 * used / wall_s, 1) if wall_s > 0 else 0.0}
    return out


def machine_busy_seconds() -> float:
    """CPU seconds all cores of the machine spent busy since boot (from /proc/stat)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in first[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS


def machine() -> dict:
    """CPU model, cores, memory and kernel of this machine."""
    info = {"cores": os.cpu_count(), "kernel": os.uname().release}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_gb"] = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    return info

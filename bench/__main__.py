"""`python -m bench [--quick] [--scenario NAME ...] [--postgres] [--keep]`: run, print the table, write JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from bench.report import cpu_table, table
from bench.runner import FULL, QUICK, SCENARIOS, TINY, Options, Run, run


def _jobs(result):  # noqa: ANN001, ANN202
    for data in result.scenarios.values():
        if isinstance(data, dict) and "cpu" in data:
            yield data
        for res in (data.values() if isinstance(data, dict) else []):
            if isinstance(res, dict) and "cpu" in res:
                yield res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: the whole run takes a few minutes")
    parser.add_argument("--tiny", action="store_true", help="smoke-test sizes (seconds; figures meaningless)")
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, metavar="NAME",
                        help=f"run only these (repeatable): {', '.join(SCENARIOS)}; footprint always runs")
    parser.add_argument("--postgres", action="store_true", default=os.environ.get("CDS_BENCH_POSTGRES") == "1",
                        help="fresh PostgreSQL databases (CDS_BENCH_PG_DSN) instead of SQLite; or CDS_BENCH_POSTGRES=1")
    parser.add_argument("--keep", action="store_true",
                        help="keep the run's var dir (logs, SQLite files, profiles) and PostgreSQL databases")
    parser.add_argument("--profile", action="store_true",
                        help="record py-spy profiles of every platform process during each load job (pip install py-spy)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="first wait up to SECONDS for the 1-minute load average to drop below 1")
    parser.add_argument("--inbox-poll", action="store_true",
                        help="pipeline: poll GET /api/v1/notifications every 25 ms instead of reading the SSE stream")
    parser.add_argument("--show", metavar="FILE", help="print the tables of an earlier run's JSON file, run nothing")
    args = parser.parse_args(argv)
    if args.show:
        data = json.loads(Path(args.show).read_text())
        result = Run(meta=data["meta"], scenarios=data["scenarios"], rows=data["rows"])
        _print(result, Path(args.show))
        return 0
    sizes = TINY if args.tiny else QUICK if args.quick else FULL
    opts = Options(sizes=sizes, scenarios=tuple(args.scenario or SCENARIOS), postgres=args.postgres, keep=args.keep or args.profile,
                   profile=args.profile, wait_quiet_s=args.wait_quiet, watch="poll" if args.inbox_poll else "sse")
    result, path = asyncio.run(run(opts))
    _print(result, path)
    return 0


def _print(result: Run, path: Path) -> None:
    m = result.meta
    sizes = m["sizes"]["name"]
    print(f"\ncongdanso bench ({sizes}, {m['database']}) -- commit {m['git']['commit'][:12]}"
          f"{' (dirty)' if m['git']['dirty'] else ''}, {m['machine'].get('cpu', '?')}, {m['machine']['cores']} cores\n")
    print(table(result))
    print("\nCPU time per process (seconds, and % of one core over the job's wall time):\n")
    print(cpu_table(result))
    others = [res["cpu"]["other"]["core_pct"] for res in _jobs(result) if "other" in res["cpu"]]
    if others and max(others) > 25:
        print(f"\nWARNING: other processes used up to {max(others):.0f}% of a core during the jobs "
              f"(mean {sum(others) / len(others):.0f}%): this machine was shared, the figures are skewed.")
    print(f"\nresults: {path}")
    missed = [r for r in result.rows if r["met"] is False]
    print(f"targets met: {sum(1 for r in result.rows if r['met'])}/{sum(1 for r in result.rows if r['met'] is not None)}"
          + (f"; missed: {', '.join(r['scenario'] + '.' + r['metric'] for r in missed)}" if missed else ""))


if __name__ == "__main__":
    sys.exit(main())

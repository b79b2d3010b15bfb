"""Smoke test of `make bench`: every scenario at tiny sizes, one run of the whole harness (and the
pipeline once more with the inbox poller instead of the SSE stream).

Checks that the harness works and that its results are complete and consistent (counts agree
with the databases, every target has a figure, CPU and memory are reported per process). No
timing assertions: figures from a loaded CI machine mean nothing.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from bench.report import cpu_table, table
from bench.runner import SCENARIOS, TARGETS, TINY, Options, run
from tests.conftest import POSTGRES

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

SIZES = replace(TINY, name="smoke", storm_s=1.0, pipeline_s=1.5, broadcast_n=200, reports_n=1_000, read_s=0.5)
PROCESSES = {"gateway", "identity", "reports", "routing", "notify"}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    import asyncio

    out = tmp_path_factory.mktemp("bench-results")
    res, path = asyncio.run(run(Options(sizes=SIZES, postgres=POSTGRES, results_dir=out, quiet=True)))
    return res, path


def test_json_file_has_meta_rows_and_every_scenario(result):
    res, path = result
    data = json.loads(path.read_text())
    assert set(data) == {"meta", "rows", "scenarios"}
    assert set(data["scenarios"]) == set(SCENARIOS)
    meta = data["meta"]
    assert len(meta["git"]["commit"]) == 40
    assert meta["machine"]["cores"] >= 1 and meta["versions"]["fastapi"] != "-"
    assert meta["database"] == ("postgresql" if POSTGRES else "sqlite (embedded)")
    assert path.name.endswith(("-pg.json" if POSTGRES else "-sqlite.json"))


def test_every_target_has_a_figure_and_a_verdict(result):
    res, _ = result
    rows = {(r["scenario"], r["metric"]): r for r in res.rows}
    for key in TARGETS:
        assert key in rows, key
        assert rows[key]["value"] is not None, key
        assert rows[key]["met"] in (True, False), key
    assert rows[("storm", "throughput_vs_grpc_hop")]["baseline"] == 100
    text = table(res)
    assert text.count("\n") == len(res.rows) + 1 and "| storm | p99_ms |" in text
    assert "gateway" in cpu_table(res)


def test_baseline_both_endpoints_answered(result):
    base = result[0].scenarios["baseline"]
    for label in ("plain", "grpc_hop"):
        assert base[label]["ok"] > 0 and base[label]["statuses"] == {"200": base[label]["ok"]}
        assert {"bare_http", "loadgen"} <= set(base[label]["cpu"])
    assert "echo_grpc" in base["grpc_hop"]["cpu"]


def test_storm_every_created_report_is_stored_and_assigned(result):
    storm = result[0].scenarios["storm"]
    assert storm["ok"] > 0 and set(storm["statuses"]) == {"201"}
    assert storm["reports_after"] - storm["reports_before"] == storm["ok"] + storm["warmup_ok"]
    assert storm["unassigned_after_drain"] == 0
    assert PROCESSES | {"nats", "loadgen"} <= set(storm["cpu"])


def test_pipeline_every_report_reached_the_inbox_and_assigned(result):
    pipe = result[0].scenarios["pipeline"]
    failed = sum(n for code, n in pipe["statuses"].items() if code != "201")
    assert pipe["submitted"] > 0
    assert pipe["submitted"] + failed + pipe["not_sent"] == int(SIZES.pipeline_rate * SIZES.pipeline_s)
    for kind in ("report_submitted", "report_assigned"):
        assert pipe["inbox"][kind]["missing"] == 0 and pipe["inbox"][kind]["n"] == pipe["submitted"]
    assert pipe["assigned"]["missing"] == 0 and pipe["assigned"]["n"] == pipe["submitted"]
    assert pipe["unassigned_at_end"] == 0
    # the default watcher is the SSE stream: one event per inbox item, two per report at least
    assert pipe["watch"] == "sse" and "polls" not in pipe
    assert pipe["sse"]["events"] >= 2 * pipe["submitted"] and pipe["sse"]["errors"] == 0
    assert "SSE stream" in next(r["note"] for r in result[0].rows if r["metric"] == "inbox_p50_ms")


def test_broadcast_wrote_one_inbox_row_per_recipient(result):
    b = result[0].scenarios["broadcast"]
    assert b["seed"]["rows"] == SIZES.broadcast_n and not b["seed"]["truncated"]
    assert b["audience"] >= SIZES.broadcast_n
    assert b["fanout_status"] == "done" and b["fanout_s"] is not None
    assert b["recipients"] == b["audience"] == b["inbox_rows"]
    assert b["inbox_during"]["n"] > 0 and b["probe_statuses"].keys() == {"200"}


def test_read_side_answers_from_the_seeded_reports(result):
    r = result[0].scenarios["read"]
    assert r["seed"]["rows"] == SIZES.reports_n
    assert r["reports_stored"] >= SIZES.reports_n
    assert r["answers"]["feed_items"] == 20
    assert r["answers"]["search_items"] > 0          # seeded texts mention flooded streets
    assert r["answers"]["stats_rows"] > 0 and r["answers"]["stats_total"] > 0
    for name in ("feed", "search", "stats"):
        assert r[name]["ok"] > 0 and set(r[name]["statuses"]) == {"200"}


def test_footprint_covers_every_process(result):
    f = result[0].scenarios["footprint"]
    assert f["start_to_healthy_s"] > 0
    assert PROCESSES | {"nats"} <= set(f["idle_rss_mb"])
    assert all(v > 0 for v in f["idle_rss_mb"].values())


def test_pipeline_with_the_inbox_poller(tmp_path):
    """The --inbox-poll mode (its own small run): the same figures, from polls instead of the stream."""
    import asyncio

    res, _ = asyncio.run(run(Options(sizes=SIZES, scenarios=("pipeline",), postgres=POSTGRES, results_dir=tmp_path,
                                     quiet=True, watch="poll")))
    pipe = res.scenarios["pipeline"]
    assert pipe["submitted"] > 0 and pipe["watch"] == "poll" and "sse" not in pipe
    for kind in ("report_submitted", "report_assigned"):   # newest-first polls may miss a late commit
        assert pipe["inbox"][kind]["n"] + pipe["inbox"][kind]["missing"] == pipe["submitted"]
    assert pipe["polls"]["n"] > 0
    assert "polled every" in next(r["note"] for r in res.rows if r["metric"] == "inbox_p50_ms")

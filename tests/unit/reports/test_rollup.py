"""The stats roll-up's bookkeeping without a database: contributions, differences, encoding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.reports.adapters import rollup
from services.reports.adapters.orm import ReportStatsDaily
from services.reports.domain.model import Status

T0 = datetime(2026, 11, 2, 23, 30, 0, 250_000, tzinfo=UTC)


def report(**changes) -> dict:
    values = {"agency_code": "ubnd_26743", "ward_code": "26743", "category_code": "flooding", "status": "assigned",
              "submitted_at": T0, "resolved_at": None, "resolve_due_at": T0 + timedelta(days=3), "rating": 0}
    return values | changes


def test_every_status_has_a_count_column():
    assert {f"n_{s.value}" for s in Status} <= set(ReportStatsDaily.__table__.c.keys())
    assert set(rollup.COUNTS) <= set(ReportStatsDaily.__table__.c.keys())


def test_a_report_counts_in_three_rows_of_its_utc_day():
    naive = report(submitted_at=T0.replace(tzinfo=None))   # as SQLite hands it back
    rows = rollup.contribution(naive)
    assert set(rows) == {("agency", T0.date(), "ubnd_26743"), ("ward", T0.date(), "26743"),
                         ("category", T0.date(), "flooding")}
    assert rollup.contribution(report(ward_code=None))[("ward", T0.date(), "")][0]["n_assigned"] == 1


def test_resolution_counts_on_time_and_its_exact_duration():
    late = report(status="resolved", resolved_at=T0 + timedelta(days=4, microseconds=7))
    counts, us = rollup.contribution(late)[("agency", T0.date(), "ubnd_26743")]
    assert counts["resolved"] == 1 and counts["on_time"] == 0 and us == 4 * 86_400_000_000 + 7
    counts, _ = rollup.contribution(late | {"resolve_due_at": None})[("agency", T0.date(), "ubnd_26743")]
    assert counts["on_time"] == 1


def test_a_transition_moves_one_count_and_a_transfer_moves_the_row():
    resolved = report(status="resolved", resolved_at=T0 + timedelta(hours=5))
    closed = resolved | {"status": "closed", "rating": 4}
    diff = rollup.changes([(resolved, closed)])
    delta, add, remove = diff[("agency", T0.date(), "ubnd_26743")]
    assert {k: v for k, v in delta.items() if v} == {"n_resolved": -1, "n_closed": 1, "ratings": 1, "rating_sum": 4}
    assert add == remove == [5 * 3_600_000_000]   # cancelled when applied: the duration stays
    moved = rollup.changes([(report(), report(agency_code="ubnd_other"))])
    assert moved[("agency", T0.date(), "ubnd_26743")][0]["n_assigned"] == -1
    assert moved[("agency", T0.date(), "ubnd_other")][0]["n_assigned"] == 1


def test_durations_survive_the_hex_encoding():
    values = [0, 1, 5 * 3_600_000_000, 2**40 + 12345, -3]
    assert list(rollup.decode("".join(map(rollup.encode, values)))) == values

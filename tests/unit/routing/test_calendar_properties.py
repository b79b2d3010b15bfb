"""Deadline properties over many filing times (a seeded sweep; hypothesis is not a dependency yet)."""

import random
from datetime import date, datetime, timedelta

from services.routing.domain.calendar import TZ, WorkingCalendar, due_at

CAL = WorkingCalendar(days_off=frozenset({date(2026, 5, 4)}), make_up_days=frozenset({date(2026, 4, 25)}))


def filing_times(n: int = 400) -> list[datetime]:
    rng = random.Random(20260217)
    start = datetime(2025, 12, 1, tzinfo=TZ)
    return [start + timedelta(minutes=rng.randrange(0, 60 * 24 * 400)) for _ in range(n)]


def test_due_time_is_never_before_filing_time():
    for filed in filing_times():
        for hours in (0.25, 1, 4, 8, 40, 160):
            for mode in ("working", "calendar"):
                assert due_at(CAL, filed, hours, mode) >= filed


def test_a_longer_sla_never_gives_an_earlier_due_time():
    for filed in filing_times():
        dues = [due_at(CAL, filed, hours, "working") for hours in (0.5, 1, 2, 3.5, 8, 16, 40, 80)]
        assert dues == sorted(dues)


def at(y, m, d, hh=0, mm=0):  # noqa: ANN001, ANN201
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def test_at_1129_one_minute_before_lunch_counts_then_resumes_at_1300():
    assert CAL.add_working_hours(at(2026, 11, 25, 11, 29), 1) == at(2026, 11, 25, 13, 59)


def test_at_1701_after_office_hours_starts_next_working_morning():
    assert CAL.add_working_hours(at(2026, 11, 25, 17, 1), 1) == at(2026, 11, 26, 8, 30)


def test_a_report_on_a_make_up_saturday_is_counted_that_day():
    assert CAL.add_working_hours(at(2026, 4, 25, 9, 0), 2) == at(2026, 4, 25, 11, 0)
    # without the make-up day: Sunday, then Monday 27 April (Hùng Kings day observed) are off too
    assert WorkingCalendar().add_working_hours(at(2026, 4, 25, 9, 0), 2) == at(2026, 4, 28, 9, 30)


def test_a_city_day_off_is_skipped():
    assert CAL.add_working_hours(at(2026, 5, 1, 16, 0), 2) > at(2026, 5, 5, 7, 30)  # 1 May holiday, 4 May off

"""Hypothesis properties of deadlines: never before filing; a longer SLA never gives an earlier due time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings, strategies as st

from services.routing.domain.calendar import TZ, WorkingCalendar, due_at

filed = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC))
hours = st.floats(min_value=0, max_value=400, allow_nan=False, allow_infinity=False)
days = st.sets(st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 3, 31)), max_size=20)


@settings(max_examples=300, deadline=None)
@given(start=filed, a=hours, b=hours, mode=st.sampled_from(["working", "calendar"]), off=days, make_up=days)
def test_due_never_before_filing_and_monotonic_in_sla(start, a, b, mode, off, make_up):
    cal = WorkingCalendar(days_off=frozenset(off - make_up), make_up_days=frozenset(make_up))
    short, long = sorted((a, b))
    due_short, due_long = due_at(cal, start, short, mode), due_at(cal, start, long, mode)
    assert due_short >= start
    assert due_long >= due_short


@settings(max_examples=200, deadline=None)
@given(start=filed, h=st.floats(min_value=0.25, max_value=80, allow_nan=False))
def test_working_hours_deadline_lands_inside_office_hours_on_a_working_day(start, h):
    cal = WorkingCalendar()
    due = cal.add_working_hours(start, h).astimezone(TZ)
    assert cal.is_working_day(due.date())
    minutes = due.hour * 60 + due.minute + due.second / 60
    assert 7 * 60 + 30 <= minutes <= 11 * 60 + 30 or 13 * 60 <= minutes <= 17 * 60
    assert due - start >= timedelta(hours=h) * 0.999  # working time never runs faster than the clock


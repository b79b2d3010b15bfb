"""Working-hours deadlines on the Vietnamese calendar."""

from datetime import date, datetime

from services.routing.domain.calendar import TZ, WorkingCalendar, due_at

CAL = WorkingCalendar()


def at(y, m, d, hh=0, mm=0):  # noqa: ANN001, ANN201
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def test_hours_inside_one_morning_window():
    assert CAL.add_working_hours(at(2026, 11, 25, 8, 0), 2) == at(2026, 11, 25, 10, 0)  # a Wednesday


def test_lunch_break_is_skipped():
    assert CAL.add_working_hours(at(2026, 11, 25, 11, 0), 1) == at(2026, 11, 25, 13, 30)


def test_evening_submission_starts_next_morning():
    assert CAL.add_working_hours(at(2026, 11, 24, 20, 0), 1) == at(2026, 11, 25, 8, 30)


def test_friday_afternoon_rolls_over_the_weekend():
    assert CAL.add_working_hours(at(2026, 11, 27, 16, 0), 2) == at(2026, 11, 30, 8, 30)  # Fri -> Mon


def test_tet_holidays_are_not_working_days():
    # Tết 2026: 17 Feb is Lunar New Year's day; the public holidays span several days around it.
    assert not CAL.is_working_day(date(2026, 2, 17))
    start = at(2026, 2, 13, 16, 0)  # Friday before Tết
    due = CAL.add_working_hours(start, 8)
    assert due.date() > date(2026, 2, 20)
    assert all(CAL.is_working_day(d) is False for d in (date(2026, 2, 16), date(2026, 2, 17), date(2026, 2, 18)))


def test_vietnamese_culture_day_is_a_holiday():
    # 24 November (Ngày Văn hóa Việt Nam) is a day off from 2025; a Tuesday evening report waits.
    assert not CAL.is_working_day(date(2026, 11, 24))
    assert CAL.add_working_hours(at(2026, 11, 23, 20, 0), 1) == at(2026, 11, 25, 8, 30)


def test_national_day_is_off_and_city_can_add_days_and_make_up_days():
    assert not CAL.is_working_day(date(2026, 9, 2))
    custom = WorkingCalendar(days_off=frozenset({date(2026, 11, 26)}), make_up_days=frozenset({date(2026, 11, 28)}))
    assert not custom.is_working_day(date(2026, 11, 26))
    assert custom.is_working_day(date(2026, 11, 28))  # a Saturday made a working day
    assert custom.add_working_hours(at(2026, 11, 28, 7, 30), 1) == at(2026, 11, 28, 8, 30)


def test_calendar_mode_counts_plain_hours():
    start = at(2026, 11, 28, 23, 0)  # Saturday night: urgent categories do not wait for Monday
    assert due_at(CAL, start, 2, "calendar") == at(2026, 11, 29, 1, 0)
    assert due_at(CAL, start, 2, "working") == at(2026, 11, 30, 9, 30)

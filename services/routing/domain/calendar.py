"""Deadlines on the Vietnamese working calendar (Asia/Ho_Chi_Minh), pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE_HOURS = ((time(7, 30), time(11, 30)), (time(13, 0), time(17, 0)))
_OFFICE_DAY = sum((datetime.combine(date.min, close) - datetime.combine(date.min, open_)
                   for open_, close in OFFICE_HOURS), timedelta())


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


@dataclass(frozen=True)
class WorkingCalendar:
    """Monday-Friday office hours minus public holidays; the city adds days off and make-up days."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    make_up_days: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        """A make-up day works even on a weekend; a day off or public holiday does not."""
        if day in self.make_up_days:
            return True
        if day in self.days_off or day in _public_holidays(day.year):
            return False
        return day.weekday() < 5

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` of office time after `start` (an aware datetime)."""
        # Naive local wall-clock values: what aware datetimes sharing one tzinfo compute anyway
        # (their +, - and comparisons ignore the offset), without the tzinfo work per step.
        remaining = timedelta(hours=hours)
        cursor = start.astimezone(TZ).replace(tzinfo=None)
        for _ in range(3660):  # at most ten years of days: a guard, never reached with real SLAs
            day = cursor.date()
            if self.is_working_day(day):
                if remaining > _OFFICE_DAY and cursor <= datetime.combine(day, OFFICE_HOURS[0][0]):
                    remaining -= _OFFICE_DAY  # the whole office day is used up: skip its windows
                    cursor = datetime.combine(day + timedelta(days=1), time(0, 0))
                    continue
                for open_, close in OFFICE_HOURS:
                    window_end = datetime.combine(day, close)
                    begin = max(cursor, datetime.combine(day, open_))
                    if begin >= window_end:
                        continue
                    if begin + remaining <= window_end:
                        return (begin + remaining).replace(tzinfo=TZ)
                    remaining -= window_end - begin
                    cursor = window_end
            cursor = datetime.combine(day + timedelta(days=1), time(0, 0))
        raise ValueError("deadline too far away")


def due_at(calendar: WorkingCalendar, start: datetime, hours: float, mode: str) -> datetime:
    """Deadline in working hours (`working`) or plain hours (`calendar`, for urgent categories)."""
    if mode == "calendar":
        return start + timedelta(hours=hours)
    return calendar.add_working_hours(start, hours)

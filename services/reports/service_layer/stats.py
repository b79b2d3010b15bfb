"""Stats per agency, ward or category over a period: counts by state, on-time rate, median hours
to resolve, mean satisfaction.

Whole UTC days are read from the daily roll-up (adapters/rollup.py: a row per day and key rather
than per report), and so is the last day up to `end` when no report is newer (`to` = now); the
other partial days at both ends, and filters on another dimension than the grouping (the roll-up is
not split by them), are read from reports through ix_reports_period.
The answer is exactly that of aggregating every report of the period in Python.
"""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import BigInteger, ColumnElement, Integer, and_, case, cast, extract, func, literal_column, or_, select

from services.reports.adapters.orm import Report, ReportStatsDaily
from services.reports.adapters.rollup import COUNTS, decode, utc
from servicekit.errors import InvalidArgument

GROUP_COLUMNS = {"agency": Report.agency_code, "ward": Report.ward_code, "category": Report.category_code}
_STATUS = {f"n_{s}": s for s in (c[2:] for c in COUNTS if c.startswith("n_"))}


async def stats(session, *, start: datetime, end: datetime, group_by: str, agency_code: str = "",  # noqa: ANN001
                ward_code: str = "", category_code: str = "") -> list[dict]:
    """Per agency, ward or category over [start, end): counts by state, on-time rate, median hours
    to resolve, mean satisfaction."""
    if group_by not in GROUP_COLUMNS:
        raise InvalidArgument("group_by must be agency, ward or category", code="invalid_group_by", field="group_by")
    if not start < end or (end - start).days > 366:
        raise InvalidArgument("period must be positive and at most a year", code="invalid_period", field="from")
    start, end = utc(start), utc(end)
    filters = {"agency": agency_code, "ward": ward_code, "category": category_code}
    if session.bind.dialect.name == "postgresql" and not session.in_transaction():
        # several statements, one snapshot (READ COMMITTED gives each statement its own)
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    totals: dict[str, dict] = {}
    plan = _plan(start, end)
    if plan and not any(value for dim, value in filters.items() if dim != group_by):
        first, last, ranges = plan
        if ranges and ranges[-1] == (_midnight(last), end, 1) and not await _submitted_since(session, end):
            # `to` is now (or later): the last day's roll-up row holds exactly [its midnight, end), so
            # the reports of today so far (a flood day's thousands) are not read one by one
            ranges, last = ranges[:-1], last + timedelta(days=1)
        await _add_rollup(session, totals, group_by, first, last, filters[group_by])
        if ranges:
            await _add_reports(session, totals, group_by, ranges, filters)
    else:
        await _add_reports(session, totals, group_by, [(start, end, 1)], filters)
    return sorted((_row(k, t) for k, t in totals.items() if t["total"]), key=lambda r: (-r["total"], r["key"]))


def _plan(start: datetime, end: datetime) -> tuple[date, date, list[tuple[datetime, datetime, int]]] | None:
    """Whole days [first, last) to read from the roll-up, and ranges of reports to add (+1) or to
    take away (-1) so that the sum is [start, end) exactly; None when no whole day lies inside.
    A partial day at either end is its own part or the whole day less the rest, whichever is
    shorter: `to=now` costs nothing (the rest of today holds no reports yet)."""
    day = timedelta(days=1)
    first = start.date() + day * (start.time() != time())
    last = end.date()
    if first >= last:
        return None
    ranges = []
    if start < _midnight(first):
        if _midnight(first) - start <= start - _midnight(first - day):
            ranges.append((start, _midnight(first), 1))
        else:
            first -= day
            ranges.append((_midnight(first), start, -1))
    if _midnight(last) < end:
        if last == date.max or end - _midnight(last) <= _midnight(last + day) - end:
            ranges.append((_midnight(last), end, 1))
        else:
            ranges.append((end, _midnight(last + day), -1))
            last += day
    return first, last, ranges


async def _submitted_since(session, end: datetime) -> bool:  # noqa: ANN001
    """Whether any report was submitted at or after `end` (one probe of ix_reports_period)."""
    return await session.scalar(select(Report.id).where(Report.submitted_at >= end).limit(1)) is not None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _totals(totals: dict[str, dict], key: str) -> dict:
    # us / minus: arrays of durations (`rollup.decode`), added / taken away
    return totals.setdefault(key, {"total": 0, "by_status": {}, "resolved": 0, "on_time": 0, "ratings": 0,
                                   "rating_sum": 0, "us": [], "minus": []})


def _row(key: str, t: dict) -> dict:
    """The answer for one key, from its sums and every duration."""
    middle = _middle(t["us"], t["minus"])
    return {"key": key, "total": t["total"], "by_status": {s: n for s, n in t["by_status"].items() if n},
            "resolved": t["resolved"], "resolved_on_time": t["on_time"], "ratings": t["ratings"],
            "on_time_rate": t["on_time"] / t["resolved"] if t["resolved"] else 0.0,
            # as timedelta.total_seconds() / 3600 and statistics.median over all of them
            "median_hours_to_resolve": statistics.median([x / 10**6 / 3600 for x in middle]) if middle else 0.0,
            "mean_rating": t["rating_sum"] / t["ratings"] if t["ratings"] else 0.0}


def _middle(us: list[np.ndarray], minus: list[np.ndarray]) -> list[int]:
    """The middle one or two of the durations `us` less `minus` (a multiset difference) in sorted
    order. In numpy (selection or sorting in C): sorting the ~40,000 durations of a month as Python
    ints took a quarter of a stats call."""
    values = _joined(us)
    if minus:
        values = np.sort(values)
        taken = np.sort(_joined(minus))
        # the j-th copy of a value x in `taken` removes the j-th copy of x in `values` (if there is one)
        at = np.searchsorted(values, taken) + np.arange(len(taken)) - np.searchsorted(taken, taken)
        found = at < len(values)
        found[found] = values[at[found]] == taken[found]
        values = np.delete(values, at[found])
    n = len(values)
    if not n:
        return []
    lo, hi = (n - 1) // 2, n // 2
    part = values if minus else np.partition(values, (lo, hi))
    return [int(part[lo])] if lo == hi else [int(part[lo]), int(part[hi])]


def _joined(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays) if arrays else np.empty(0, np.int64)


async def _add_rollup(session, totals: dict, group_by: str, first: date, last: date, key: str) -> None:  # noqa: ANN001
    """Whole days from the roll-up: sums per key, and every duration (one string per key)."""
    r = ReportStatsDaily
    joined = (func.group_concat(r.durations, "") if session.bind.dialect.name == "sqlite"
              else func.string_agg(r.durations, ""))
    q = (select(r.key, *[func.sum(getattr(r, c)) for c in COUNTS], joined)
         .where(r.dim == group_by, r.day >= first, r.day < last, *([r.key == key] if key else [])).group_by(r.key))
    for k, *sums, us in (await session.execute(q)).all():
        t = _totals(totals, k)
        counts = dict(zip(COUNTS, sums, strict=True))   # (sums over rows that exist: never NULL)
        by_status = t["by_status"]
        for column, status in _STATUS.items():
            by_status[status] = by_status.get(status, 0) + counts[column]
            t["total"] += counts[column]
        t["resolved"] += counts["resolved"]
        t["on_time"] += counts["on_time"]
        t["ratings"] += counts["ratings"]
        t["rating_sum"] += counts["rating_sum"]
        if us:
            t["us"].append(decode(us))


async def _add_reports(session, totals: dict, group_by: str, ranges: list[tuple[datetime, datetime, int]],  # noqa: ANN001
                       filters: dict[str, str]) -> None:
    """Sums per key and status of the reports submitted in each range, added or taken away (its
    sign), with their durations encoded as in the roll-up (one string per key, status and sign)."""
    key = func.coalesce(GROUP_COLUMNS[group_by], literal_column("''"))   # a literal: GROUP BY repeats it
    within = [and_(Report.submitted_at >= a, Report.submitted_at < b) for a, b, _ in ranges]
    sign = case(*((w, s) for w, (_, _, s) in zip(within, ranges, strict=True))) if len(ranges) > 1 \
        else literal_column(str(ranges[0][2]))
    where = [or_(*within), *(GROUP_COLUMNS[dim] == value for dim, value in filters.items() if value)]
    resolved = Report.resolved_at.is_not(None)
    on_time = and_(resolved, or_(Report.resolve_due_at.is_(None), Report.resolved_at <= Report.resolve_due_at))
    sqlite = session.bind.dialect.name == "sqlite"
    us = _resolve_us(sqlite)
    hexed = case((resolved, func.printf("%016llx", us) if sqlite else func.lpad(func.to_hex(us), 16, "0")))
    q = select(key, Report.status, sign, func.count(), func.count(Report.resolved_at),
               func.sum(case((on_time, 1), else_=0)), func.sum(case((Report.rating != 0, 1), else_=0)),
               func.sum(Report.rating), func.group_concat(hexed, "") if sqlite else func.string_agg(hexed, "")
               ).where(*where).group_by(key, Report.status, *([sign] if len(ranges) > 1 else []))
    # (a lone sign is a constant: grouping by an integer literal would name a column position)
    for k, status, s, n, n_resolved, n_on_time, n_ratings, rating_sum, durations in (await session.execute(q)).all():
        t, s = _totals(totals, k), int(s)
        t["total"] += s * n
        t["by_status"][status] = t["by_status"].get(status, 0) + s * n
        t["resolved"] += s * n_resolved
        t["on_time"] += s * int(n_on_time or 0)
        t["ratings"] += s * int(n_ratings or 0)
        t["rating_sum"] += s * int(rating_sum or 0)
        if durations:
            t["us" if s > 0 else "minus"].append(decode(durations))


def _resolve_us(sqlite: bool) -> ColumnElement[int]:
    """Whole microseconds from submitted_at to resolved_at, exactly (rollup.resolve_us in SQL)."""
    if sqlite:
        # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff' text: whole seconds, then the six digits
        # (date functions round the fraction to milliseconds, so they only see the whole seconds).
        def sec(col):  # noqa: ANN001, ANN202
            return cast(func.strftime("%s", func.substr(col, 1, 19)), Integer)

        def frac(col):  # noqa: ANN001, ANN202
            return cast(func.substr(col, 21, 6), Integer)

        return (sec(Report.resolved_at) - sec(Report.submitted_at)) * 1_000_000 \
            + frac(Report.resolved_at) - frac(Report.submitted_at)
    epoch = extract("epoch", Report.resolved_at) - extract("epoch", Report.submitted_at)
    return cast(epoch * 1_000_000, BigInteger)   # extract() is numeric (exact) since PostgreSQL 14

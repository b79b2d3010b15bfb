"""The daily stats roll-up (table report_stats_daily), kept in step with reports.

Every change of a report that stats can see (a new report, a status, resolution or deadline, a
rating, the agency after routing) is a flush of a Report row, or one of the Core writes of
adapters/rows.py (submission, assignment). So this module listens on the mapper's insert / update
/ delete of Report, and those writes call `note` themselves: the row's contribution before and
after is noted, and the differences are applied to the roll-up just before the session commits,
in the same transaction: handlers need not remember it, and on PostgreSQL the roll-up rows every
submission touches (today's, for the unassigned agency '') stay locked only for the commit itself.
Other statements that bypass the ORM (bulk UPDATEs of these columns, bulk loads) must run
`rebuild_sql` afterwards; the bench seeder does.

A report contributes to three rows, (agency, day, agency_code), (ward, day, ward_code) and
(category, day, category_code), with day = the UTC date of submitted_at: one count in its status,
whether it is resolved and on time, its rating, and its exact time to resolve in microseconds
(kept as a list, because a median cannot be summed). The list is one string of 16 hex digits per
value (int64, big-endian two's complement, no separators): SQL concatenates a period's lists with
group_concat / string_agg and `decode` turns 40,000 of them into one numpy array in C.
"""

from __future__ import annotations

import functools
from collections import Counter
from datetime import UTC, date, datetime

import numpy as np

from sqlalchemy import bindparam, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import get_history

from services.reports.adapters.orm import Report, ReportStatsDaily
from services.reports.domain.model import Status

DIMS = {"agency": "agency_code", "category": "category_code", "ward": "ward_code"}
FIELDS = ("agency_code", "ward_code", "category_code", "status", "submitted_at", "resolved_at", "resolve_due_at",
          "rating")
COUNTS = (*(f"n_{s.value}" for s in Status), "resolved", "on_time", "ratings", "rating_sum")
_table = ReportStatsDaily.__table__
_stored = select(*(getattr(Report, f) for f in FIELDS)).where(Report.id == bindparam("id"))


def utc(ts: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes; everything else is aware."""
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def resolve_us(submitted: datetime, resolved: datetime) -> int:
    """Exact whole microseconds from submission to resolution."""
    delta = utc(resolved) - utc(submitted)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode(us: int) -> str:
    """One duration as stored in `durations`."""
    return f"{us & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def decode(text: str) -> np.ndarray:
    """Every duration of a (concatenated) `durations` string (big-endian int64 per 16 hex digits)."""
    return np.frombuffer(bytes.fromhex(text), dtype=">i8")


def contribution(v: dict) -> dict[tuple[str, date, str], tuple[Counter, int | None]]:
    """The roll-up rows one report (its FIELDS values) counts in, with its counts and duration."""
    resolved, due = v["resolved_at"], v["resolve_due_at"]
    counts = Counter({f"n_{v['status']}": 1, "resolved": int(resolved is not None),
                      "on_time": int(resolved is not None and (due is None or utc(resolved) <= utc(due))),
                      "ratings": int(bool(v["rating"])), "rating_sum": v["rating"] or 0})
    us = resolve_us(v["submitted_at"], resolved) if resolved is not None else None
    day = utc(v["submitted_at"]).date()
    return {(dim, day, v[col] or ""): (counts, us) for dim, col in DIMS.items()}


Key = tuple[str, date, str]


def changes(pairs: list[tuple[dict | None, dict | None]]) -> dict[Key, tuple[Counter, list[int], list[int]]]:
    """Per roll-up row: count deltas, durations to add, durations to remove, for (before, after)
    pairs of reports' FIELDS values (None: absent)."""
    out: dict[Key, tuple[Counter, list[int], list[int]]] = {}
    for before, after in pairs:
        for sign, values in ((-1, before), (1, after)):
            for key, (counts, us) in (contribution(values) if values else {}).items():
                delta, add, remove = out.setdefault(key, (Counter(), [], []))
                for column, n in counts.items():
                    delta[column] += sign * n
                if us is not None:
                    (add if sign > 0 else remove).append(us)
    return out


def apply(connection, pairs: list[tuple[dict | None, dict | None]]) -> None:  # noqa: ANN001
    """Write the changes to the roll-up, rows in key order (the same lock order in every transaction):
    one upsert of every row's counts, then the duration lists that changed."""
    counted, timed = [], []
    for (dim, day, key), (delta, add, remove) in sorted(changes(pairs).items()):
        for us in set(add) & set(remove):   # unchanged durations (same key before and after)
            for _ in range(min(add.count(us), remove.count(us))):
                add.remove(us)
                remove.remove(us)
        row = {"d": dim, "y": day, "k": key}
        if any(delta.values()) or add:
            counted.append(row | {c: delta[c] for c in COUNTS})
        if add or remove:
            timed.append((row, add, remove))
    if counted:
        connection.execute(_statements(connection.dialect.name)[0], counted)
    for row, add, remove in timed:
        _change_durations(connection, row, add=add, remove=remove)


@functools.cache
def _statements(dialect: str) -> tuple:
    """The upsert adding to a row's counts, the durations read (locked) and write; built once."""
    insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(_table)
    upsert = insert.values(dim=bindparam("d"), day=bindparam("y"), key=bindparam("k"), durations="",
                           **{c: bindparam(c) for c in COUNTS}).on_conflict_do_update(
        index_elements=[_table.c.dim, _table.c.day, _table.c.key],
        set_={c: _table.c[c] + insert.excluded[c] for c in COUNTS})
    where = (_table.c.dim == bindparam("d"), _table.c.day == bindparam("y"), _table.c.key == bindparam("k"))
    return (upsert, select(_table.c.durations).where(*where).with_for_update(),
            _table.update().where(*where).values(durations=bindparam("durations")))


def _change_durations(connection, row: dict, *, add: list[int], remove: list[int]) -> None:  # noqa: ANN001
    upsert, read, write = _statements(connection.dialect.name)
    text = connection.execute(read, row).scalar_one_or_none()
    if text is None:   # a roll-up out of step (rebuild_sql mends it): never fail the report's change
        connection.execute(upsert, [row | dict.fromkeys(COUNTS, 0)])
        text = ""
    values = [text[i:i + 16] for i in range(0, len(text), 16)]
    for us in remove:
        if encode(us) in values:
            values.remove(encode(us))
    values += map(encode, add)
    connection.execute(write, row | {"durations": "".join(values)})


PENDING = "report_stats_pending"


def _values(target: Report) -> dict:
    return {f: getattr(target, f) for f in FIELDS}


def note(session, before: dict | None, after: dict | None) -> None:  # noqa: ANN001
    """Record a report's FIELDS values before and after a change (None: absent); the roll-up applies
    them at commit. The ORM events below call it; writes that bypass the ORM (adapters/rows.py) too."""
    session.info.setdefault(PENDING, []).append((before, after))


def _note(target: Report, before: dict | None, after: dict | None) -> None:
    note(object_session(target), before, after)


@event.listens_for(Report, "after_insert")
def _report_inserted(mapper, connection, target: Report) -> None:  # noqa: ANN001
    _note(target, None, _values(target))


@event.listens_for(Report, "before_update")
def _report_updating(mapper, connection, target: Report) -> None:  # noqa: ANN001
    if not any(get_history(target, f).has_changes() for f in FIELDS):
        return   # followers, comments, texts: nothing stats count
    # The stored row, not the attribute history: history lacks old values never loaded.
    row = connection.execute(_stored, {"id": target.id}).one()
    _note(target, dict(zip(FIELDS, row, strict=True)), _values(target))


@event.listens_for(Report, "after_delete")
def _report_deleted(mapper, connection, target: Report) -> None:  # noqa: ANN001
    _note(target, _values(target), None)


@event.listens_for(Session, "before_commit")
def _apply_pending(session: Session) -> None:
    if not session.info.get(PENDING):
        return
    session.flush()   # changes made since the last flush note theirs too
    apply(session.connection(), session.info.pop(PENDING))


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction) -> None:  # noqa: ANN001
    if transaction.parent is None:   # rolled back or closed uncommitted: the notes go with it
        session.info.pop(PENDING, None)


def rebuild_sql(dialect: str) -> list[str]:
    """Statements recomputing the whole roll-up from reports (after bulk loads that bypass the ORM),
    to run in one transaction. On PostgreSQL the first locks the roll-up against other writers (readers
    go on): a running service's transactions then wait for the rebuild and add their changes on top,
    instead of deadlocking with it on the rows both rewrite."""
    if dialect == "sqlite":
        day = "substr(submitted_at, 1, 10)"
        sec = "CAST(strftime('%s', substr({}, 1, 19)) AS INTEGER)"
        frac = "CAST(substr({}, 21, 6) AS INTEGER)"
        us = (f"({sec.format('resolved_at')} - {sec.format('submitted_at')}) * 1000000 + "
              f"{frac.format('resolved_at')} - {frac.format('submitted_at')}")
        durations = f"group_concat(CASE WHEN resolved_at IS NOT NULL THEN printf('%016llx', {us}) END, '')"
    else:
        day = "(submitted_at AT TIME ZONE 'UTC')::date"
        us = "CAST((extract(epoch FROM resolved_at) - extract(epoch FROM submitted_at)) * 1000000 AS BIGINT)"
        durations = f"string_agg(lpad(to_hex({us}), 16, '0'), '')"
    statuses = ", ".join(f"sum(CASE WHEN status = '{s.value}' THEN 1 ELSE 0 END)" for s in Status)
    on_time = "resolved_at IS NOT NULL AND (resolve_due_at IS NULL OR resolved_at <= resolve_due_at)"
    out = ([] if dialect == "sqlite" else ["LOCK TABLE report_stats_daily IN EXCLUSIVE MODE"])
    out.append("DELETE FROM report_stats_daily")
    for dim, col in DIMS.items():
        out.append(
            f"INSERT INTO report_stats_daily (dim, day, key, {', '.join(COUNTS)}, durations) "
            f"SELECT '{dim}', {day}, coalesce({col}, ''), {statuses}, count(resolved_at), "
            f"sum(CASE WHEN {on_time} THEN 1 ELSE 0 END), sum(CASE WHEN rating <> 0 THEN 1 ELSE 0 END), "
            f"coalesce(sum(rating), 0), coalesce({durations}, '') FROM reports GROUP BY {day}, coalesce({col}, '')")
    return out

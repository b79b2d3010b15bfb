"""Core statements for the two writes every report goes through: its submission and routing's
assignment. Built once, run on the unit of work's connection, so a report costs a few statements
instead of ORM flushes (identity map, change tracking, a second read of the row for the roll-up).

They keep what the ORM path keeps: the roll-up (each change is noted with `rollup.note`, applied
at commit like the ORM's), the optimistic version (`version` checked and bumped; StaleDataError
when another transaction changed the row first), and the column defaults (rows are complete).
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm.exc import StaleDataError

from services.reports.adapters import rollup
from services.reports.adapters.orm import IdempotencyKey, Report, TimelineEntry

_reports = Report.__table__
_timeline = TimelineEntry.__table__
_keys = IdempotencyKey.__table__

# What apply_assignment needs: the roll-up's fields, the guard's, and report_status_changed's.
ASSIGNMENT_COLUMNS = ("id", "status", "version", "reporter_id", "kind", "category_code", "category_group",
                      "ward_code", "agency_code", "agency_name_vi", "agency_name_en", "submitted_at",
                      "resolved_at", "ack_due_at", "resolve_due_at", "rating")
_read_for_assignment = select(*(_reports.c[c] for c in ASSIGNMENT_COLUMNS)).where(_reports.c.id == bindparam("id"))
# A batch's reports, locked in id order (PostgreSQL; SQLite has one writer) until the commit.
_lock_for_assignment = (select(*(_reports.c[c] for c in ASSIGNMENT_COLUMNS))
                        .where(_reports.c.id.in_(bindparam("ids", expanding=True)))
                        .order_by(_reports.c.id).with_for_update())
_read_key = select(_keys.c.request_hash, _keys.c.report_id).where(
    _keys.c.reporter_id == bindparam("reporter_id"), _keys.c.key == bindparam("key"))
# SET comes from the parameters' keys (Core's executemany form); WHERE names avoid column names.
_update = _reports.update().where(_reports.c.id == bindparam("where_id"),
                                  _reports.c.version == bindparam("where_version"))

# Column defaults of a new report (orm.Report's), so the row and the answer built from it are whole.
NEW_REPORT_DEFAULTS = {"address": "", "visibility": "public", "anonymous": False, "agency_code": "",
                       "agency_name_vi": "", "agency_name_en": "", "ack_due_at": None, "resolve_due_at": None,
                       "acknowledged_at": None, "resolved_at": None, "closed_at": None, "reject_reason": "",
                       "rating": 0, "rating_comment": "", "followers": 0, "comments": 0, "merged_into": "",
                       "search_text": "", "attributes": {}}


def _fields(values: dict) -> dict:
    return {f: values[f] for f in rollup.FIELDS}


async def insert_report(connection, session, row: dict) -> None:  # noqa: ANN001
    """INSERT a new report (a complete row) and note its roll-up contribution."""
    await connection.execute(_reports.insert(), row)
    rollup.note(session, None, _fields(row))


async def insert_timeline(connection, row: dict | list[dict]) -> None:  # noqa: ANN001
    """INSERT one timeline entry, or several in one multi-row statement (complete rows)."""
    await connection.execute(_timeline.insert(), row)


async def idempotency_key(connection, reporter_id: str, key: str):  # noqa: ANN001, ANN201
    """(request_hash, report_id) stored for a reporter's Idempotency-Key, or None."""
    return (await connection.execute(_read_key, {"reporter_id": reporter_id, "key": key})).first()


async def insert_idempotency_key(connection, row: dict) -> None:  # noqa: ANN001
    """INSERT an Idempotency-Key record (IntegrityError when a concurrent request stored it first)."""
    await connection.execute(_keys.insert(), row)


async def read_for_assignment(connection, report_id: str) -> dict | None:  # noqa: ANN001
    """The ASSIGNMENT_COLUMNS of a report, or None."""
    row = (await connection.execute(_read_for_assignment, {"id": report_id})).first()
    return None if row is None else row._asdict()


async def lock_for_assignment(connection, report_ids: list[str]) -> dict[str, dict]:  # noqa: ANN001
    """The ASSIGNMENT_COLUMNS of these reports by id (absent ones left out), locked until the commit."""
    result = await connection.execute(_lock_for_assignment, {"ids": report_ids})
    return {row.id: row._asdict() for row in result}


def _stale(matched: int, expected: int) -> StaleDataError:
    return StaleDataError(f"UPDATE statement on table 'reports' expected to update {expected} row(s); "
                          f"{matched} were matched.")


def _note_change(session, stored: dict, changes: dict) -> None:  # noqa: ANN001
    before = _fields(stored)
    after = {**before, **{k: v for k, v in changes.items() if k in before}}
    if after != before:
        rollup.note(session, before, after)


async def update_report(connection, session, stored: dict, changes: dict) -> int:  # noqa: ANN001
    """UPDATE a report read as `stored` (it must hold the roll-up FIELDS and version) with `changes`,
    checking and bumping its version like the ORM; notes the roll-up change; returns the new version."""
    version = stored["version"] + 1
    result = await connection.execute(
        _update, {**changes, "version": version, "where_id": stored["id"], "where_version": stored["version"]})
    if result.rowcount != 1:
        raise _stale(result.rowcount, 1)
    _note_change(session, stored, changes)
    return version


async def update_reports(connection, session, updates: list[tuple[dict, dict]]) -> None:  # noqa: ANN001
    """update_report for many (stored, changes) pairs, the changes having the same keys, in one
    executemany; each version becomes stored's + 1. Its rowcount is not per row (asyncpg gives none),
    so the rows must have been read with lock_for_assignment: the lock keeps the version check."""
    params = [{**changes, "version": stored["version"] + 1, "where_id": stored["id"],
               "where_version": stored["version"]} for stored, changes in updates]
    result = await connection.execute(_update, params)
    if connection.dialect.supports_sane_multi_rowcount and result.rowcount != len(updates):
        raise _stale(result.rowcount, len(updates))
    for stored, changes in updates:
        _note_change(session, stored, changes)

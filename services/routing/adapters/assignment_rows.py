"""Assignments and their SLA clocks as plain rows: the statements of the consumers' hot path.

The two consumers touch every report (route it, then follow each status change), and the ORM's
share of that was most of routing's CPU: `session.get`, identity-map bookkeeping, autoflush and a
statement built per call. So these are Core statements built once at import and run on the unit of
work's connection (`await uow.session.connection()`), which neither autoflushes nor registers
objects. Do not use them on a row that is also loaded as an ORM object in the same session (the
object would not see the write); the transfer handler writes only clock rows it never loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from services.routing.adapters.orm import Assignment, SlaClockRow

assignments = Assignment.__table__
clocks = SlaClockRow.__table__

# WHERE parameters are prefixed "b_": a bound name equal to a column's would clash with the SET
# clause, which takes the columns named in the parameters.
_ASSIGNMENT_FOR_UPDATE = (select(assignments).where(assignments.c.report_id == bindparam("b_report_id"))
                          .with_for_update())
# INSERT ... ON CONFLICT (report_id) DO NOTHING: both backends spell it alike, each with its own construct
_INSERT_NEW_ASSIGNMENT = {name: dialect.insert(assignments).on_conflict_do_nothing(index_elements=["report_id"])
                          for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))}
# The batch form: RETURNING names the reports that had no assignment yet (SQLite >= 3.35 too)
_INSERT_NEW_ASSIGNMENTS = {name: stmt.returning(assignments.c.report_id)
                           for name, stmt in _INSERT_NEW_ASSIGNMENT.items()}
_STATUSES_FOR_UPDATE = (select(assignments.c.report_id, assignments.c.report_status)
                        .where(assignments.c.report_id.in_(bindparam("b_report_ids", expanding=True)))
                        .order_by(assignments.c.report_id).with_for_update())  # one lock order for all
_UPDATE_ASSIGNMENT = update(assignments).where(assignments.c.report_id == bindparam("b_report_id"))
_SET_STATUS = (update(assignments).where(assignments.c.report_id == bindparam("b_report_id"),
                                         assignments.c.report_status != bindparam("b_status"))
               .values(report_status=bindparam("b_status")))
_CLOCKS_FOR_UPDATE = (select(clocks).where(clocks.c.report_id == bindparam("b_report_id"),
                                           clocks.c.deadline.in_(bindparam("b_deadlines", expanding=True)))
                      .with_for_update())
# sla.stop in SQL: only a running clock stops; the WHERE is re-checked after a lock wait (PostgreSQL)
_STOP_CLOCK = (update(clocks).where(clocks.c.report_id == bindparam("b_report_id"),
                                    clocks.c.deadline == bindparam("b_deadline"), clocks.c.stopped_at.is_(None),
                                    clocks.c.breached_at.is_(None))
               .values(stopped_at=bindparam("b_at"), next_at=None))
_INSERT_CLOCKS = insert(clocks)
_UPDATE_CLOCK = update(clocks).where(clocks.c.report_id == bindparam("b_report_id"),
                                     clocks.c.deadline == bindparam("b_deadline"))


async def assignment_for_update(conn: AsyncConnection, report_id: str) -> Row | None:
    """The report's assignment row (every column), locked for update; None if it has none."""
    return (await conn.execute(_ASSIGNMENT_FOR_UPDATE, {"b_report_id": report_id})).first()


async def insert_new_assignment(conn: AsyncConnection, values: Mapping[str, Any]) -> bool:
    """Insert one assignment (every column given); False, and nothing written, if the report has one."""
    result = await conn.execute(_INSERT_NEW_ASSIGNMENT[conn.dialect.name], dict(values))
    return result.rowcount == 1


async def insert_new_assignments(conn: AsyncConnection, rows: list[dict[str, Any]]) -> set[str]:
    """Insert assignments (every column given, one per report) in one statement, skipping reports
    that have one; the ids of the reports inserted."""
    if not rows:
        return set()
    return set((await conn.execute(_INSERT_NEW_ASSIGNMENTS[conn.dialect.name], rows)).scalars())


async def statuses_for_update(conn: AsyncConnection, report_ids: Iterable[str]) -> dict[str, str]:
    """Report id -> recorded status, of those reports that have an assignment, locked for update."""
    result = await conn.execute(_STATUSES_FOR_UPDATE, {"b_report_ids": list(report_ids)})
    return {r.report_id: r.report_status for r in result}


async def set_statuses(conn: AsyncConnection, statuses: Mapping[str, str]) -> None:
    """Record each report's status on its assignment (an executemany: the caller knows they exist)."""
    if statuses:
        await conn.execute(_UPDATE_ASSIGNMENT, [{"b_report_id": report_id, "report_status": status}
                                                for report_id, status in statuses.items()])


async def set_status(conn: AsyncConnection, report_id: str, status: str) -> None:
    """Record the report's status on its assignment, if it has one (no write when it is unchanged)."""
    await conn.execute(_SET_STATUS, {"b_report_id": report_id, "b_status": status})


async def record_status(conn: AsyncConnection, report_id: str, status: str) -> bool:
    """Record the report's status on its assignment, locking it; False when the report has none."""
    return (await conn.execute(_UPDATE_ASSIGNMENT, {"b_report_id": report_id, "report_status": status})).rowcount == 1


async def update_assignment(conn: AsyncConnection, report_id: str, **values: Any) -> None:  # noqa: ANN401
    """Set the given columns of the report's assignment."""
    await conn.execute(_UPDATE_ASSIGNMENT, {"b_report_id": report_id, **values})


async def clocks_for_update(conn: AsyncConnection, report_id: str, deadlines: Iterable[str]) -> list[Row]:
    """The report's named clock rows (every column), locked for update, in one query."""
    result = await conn.execute(_CLOCKS_FOR_UPDATE, {"b_report_id": report_id, "b_deadlines": list(deadlines)})
    return list(result.all())


async def insert_clocks(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Insert clock rows (every column given, the same columns in each)."""
    if rows:
        await conn.execute(_INSERT_CLOCKS, rows)


async def stop_running_clocks(conn: AsyncConnection, stops: list[tuple[str, str, datetime]]) -> None:
    """Stop each (report id, deadline) clock at its instant, unless already stopped or breached."""
    if stops:
        await conn.execute(_STOP_CLOCK, [{"b_report_id": report_id, "b_deadline": deadline, "b_at": at}
                                         for report_id, deadline, at in stops])


async def update_clocks(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Write clock rows keyed by their report_id and deadline (the same columns in each)."""
    if rows:
        await conn.execute(_UPDATE_CLOCK, [{"b_report_id": r["report_id"], "b_deadline": r["deadline"],
                                            **{k: v for k, v in r.items() if k not in ("report_id", "deadline")}}
                                           for r in rows])

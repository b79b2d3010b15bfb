"""The SLA clocks of assignments: start, stop, and fire what is due (warnings, escalations)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from congdanso.common.v1 import common_pb2
from congdanso.routing.v1 import events_pb2
from services.routing.adapters import assignment_rows
from services.routing.adapters.orm import Agency, SlaClockRow
from services.routing.domain import sla

log = logging.getLogger(__name__)
IOC = "ioc"
_FIELDS = ("agency_code", "started_at", "warn_at", "due_at", "warned_at", "breached_at", "stopped_at")


def ts(value: datetime) -> Timestamp:
    """An aware datetime as a protobuf Timestamp."""
    out = Timestamp()
    out.FromDatetime(value)
    return out


def to_clock(row: SlaClockRow | Row) -> sla.Clock:
    """Table row (an ORM object or a Core row) -> domain clock."""
    return sla.Clock(report_id=row.report_id, deadline=row.deadline,
                     **{name: getattr(row, name) for name in _FIELDS})


def _write(row: SlaClockRow, clock: sla.Clock) -> None:
    """Domain clock -> table row (next_at included, so the claim query finds it)."""
    for name in _FIELDS:
        setattr(row, name, getattr(clock, name))
    row.next_at = clock.next_at()


def clock_values(clock: sla.Clock) -> dict:
    """Domain clock -> the row's columns (next_at included, so the claim query finds it)."""
    values = {"report_id": clock.report_id, "deadline": clock.deadline}
    values.update((name, getattr(clock, name)) for name in _FIELDS)
    values["next_at"] = clock.next_at()
    return values


def _started(report_id: str, agency_code: str, started_at: datetime, ack_due: datetime, resolve_due: datetime,
             fraction: float = sla.WARN_FRACTION) -> list[dict]:
    """The rows of an assignment's fresh ack and resolve clocks."""
    return [{**clock_values(sla.start(report_id, deadline, agency_code, started_at, due, fraction)), "escalated_to": ""}
            for deadline, due in ((sla.ACK, ack_due), (sla.RESOLVE, resolve_due))]


async def start_clocks(conn: AsyncConnection, report_id: str, agency_code: str, started_at: datetime,
                       ack_due: datetime, resolve_due: datetime, fraction: float = sla.WARN_FRACTION, *,
                       new: bool = False) -> None:
    """(Re)start the ack and resolve clocks of an assignment handed over at `started_at`.

    `new=True`: the assignment was just created, so it has no clock rows to look up.
    """
    rows = _started(report_id, agency_code, started_at, ack_due, resolve_due, fraction)
    existing = set() if new else {r.deadline for r in await assignment_rows.clocks_for_update(
        conn, report_id, (sla.ACK, sla.RESOLVE))}
    await assignment_rows.update_clocks(conn, [r for r in rows if r["deadline"] in existing])
    await assignment_rows.insert_clocks(conn, [r for r in rows if r["deadline"] not in existing])


async def stop_clocks(conn: AsyncConnection, report_id: str, deadlines: tuple[str, ...],
                      now: datetime) -> None:
    """Stop the named clocks of a report (already stopped or breached ones stay as they are)."""
    stopped = []
    for row in await assignment_rows.clocks_for_update(conn, report_id, deadlines):
        clock = to_clock(row)
        after = sla.stop(clock, now)
        if after is not clock:
            stopped.append(clock_values(after))
    await assignment_rows.update_clocks(conn, stopped)


async def start_new_clocks(conn: AsyncConnection, assignments: Iterable[Mapping[str, Any]]) -> None:
    """`start_clocks(..., new=True)` of many assignments just created (their columns), in one statement."""
    await assignment_rows.insert_clocks(conn, [
        row for a in assignments
        for row in _started(a["report_id"], a["agency_code"], a["assigned_at"], a["ack_due_at"], a["resolve_due_at"])])


async def stop_many_clocks(conn: AsyncConnection, stops: Iterable[tuple[str, tuple[str, ...], datetime]]) -> None:
    """`stop_clocks` of many (report id, deadlines, now), in one statement: a stopped or breached clock
    stays as it was, as `sla.stop` keeps it, and a stop touches only stopped_at and next_at."""
    await assignment_rows.stop_running_clocks(conn, [(report_id, deadline, at) for report_id, deadlines, at in stops
                                                     for deadline in deadlines])


async def escalation_target(session, agency_code: str) -> Agency:  # noqa: ANN001
    """The parent agency if it exists and is active, else the operations centre."""
    agency = await session.get(Agency, agency_code)
    parent = await session.get(Agency, agency.parent_code) if agency and agency.parent_code else None
    if parent is not None and parent.active:
        return parent
    return await session.get(Agency, IOC)


def _claim(dialect: str, now: datetime, batch: int):  # noqa: ANN202
    """Due clocks, earliest first; PostgreSQL replicas skip rows another one holds."""
    q = select(SlaClockRow).where(SlaClockRow.next_at <= now).order_by(SlaClockRow.next_at).limit(batch)
    return q.with_for_update(skip_locked=True) if dialect == "postgresql" else q


async def fire_due(uow, now: datetime, batch: int = 100) -> int:  # noqa: ANN001
    """One scheduler pass: emit what is due and record it in the same commit; returns events emitted.

    On SQLite the unit of work's BEGIN IMMEDIATE makes this the single writer; on PostgreSQL the
    claimed rows stay locked (SKIP LOCKED for other replicas) until the commit with the outbox rows.
    """
    emitted = 0
    async with uow:
        rows = (await uow.session.scalars(_claim(uow.session.bind.dialect.name, now, batch))).all()
        for row in rows:
            clock, actions = sla.advance(to_clock(row), now)
            for action in actions:
                emitted += 1
                if action == sla.WARN:
                    uow.emit(events_pb2.SlaWarning(report_id=row.report_id, agency_code=row.agency_code,
                                                   deadline=row.deadline, due_at=ts(row.due_at)))
                else:
                    target = await escalation_target(uow.session, row.agency_code)
                    row.escalated_to = target.code
                    log.warning("sla breached", extra={"report_id": row.report_id, "deadline": row.deadline,
                                                       "agency": row.agency_code, "escalated_to": target.code})
                    uow.emit(events_pb2.ReportEscalated(
                        report_id=row.report_id, agency_code=row.agency_code, escalated_to_agency_code=target.code,
                        deadline=row.deadline, due_at=ts(row.due_at),
                        escalated_to_agency_name=common_pb2.LocalizedText(vi=target.name_vi, en=target.name_en)))
            _write(row, clock)
        await uow.commit()
    return emitted

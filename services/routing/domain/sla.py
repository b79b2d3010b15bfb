"""The deadline clock of an assignment: warn at 80 %, escalate on breach, each once (pure).

A clock is one row of the scheduler's table; `advance` says what is due at `now` and returns the
clock with those steps marked done, so the caller writes both in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

WARN = "warn"
ESCALATE = "escalate"
ACK, RESOLVE = "ack", "resolve"
WARN_FRACTION = 0.8


@dataclass(frozen=True)
class Clock:
    report_id: str
    deadline: str          # ack | resolve
    agency_code: str
    started_at: datetime
    warn_at: datetime
    due_at: datetime
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    stopped_at: datetime | None = None

    def next_at(self) -> datetime | None:
        """When the scheduler must look at this clock next; None once nothing is left to do."""
        if self.stopped_at is not None or self.breached_at is not None:
            return None
        return self.warn_at if self.warned_at is None else self.due_at


def start(report_id: str, deadline: str, agency_code: str, started_at: datetime, due_at: datetime,
          fraction: float = WARN_FRACTION) -> Clock:
    """A fresh clock; the warning falls at `fraction` of the time between start and due."""
    warn_at = started_at + (due_at - started_at) * fraction
    return Clock(report_id, deadline, agency_code, started_at, warn_at, due_at)


def advance(clock: Clock, now: datetime) -> tuple[Clock, list[str]]:
    """Steps due at `now` and the clock with them recorded.

    A breach found before its warning was sent (the process was down across both) escalates
    only: a warning about a deadline that has already passed helps nobody.
    """
    if clock.stopped_at is not None or clock.breached_at is not None:
        return clock, []
    if now >= clock.due_at:
        return replace(clock, warned_at=clock.warned_at or now, breached_at=now), [ESCALATE]
    if clock.warned_at is None and now >= clock.warn_at:
        return replace(clock, warned_at=now), [WARN]
    return clock, []


def stop(clock: Clock, now: datetime) -> Clock:
    """Stop a running clock (acknowledged, resolved, closed, ...); a stopped clock stays as it was."""
    if clock.stopped_at is not None or clock.breached_at is not None:
        return clock
    return replace(clock, stopped_at=now)

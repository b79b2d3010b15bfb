"""Report rules without I/O: the lifecycle of DESIGN.md §5 and input checks."""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from services.reports.domain.errors import InvalidTransition, OutsideCity
from servicekit.errors import InvalidArgument, PermissionDenied

# Ho Chi Minh City after the 2025 merger (incl. former Binh Duong, Ba Ria - Vung Tau and Con Dao).
CITY_BBOX = (8.3, 106.1, 11.6, 107.7)  # south, west, north, east
DESCRIPTION_MIN, DESCRIPTION_MAX = 10, 5000
ADDRESS_MAX = 300


class Kind(StrEnum):
    INCIDENT = "incident"
    FEEDBACK = "feedback"
    PROPOSAL = "proposal"


class Status(StrEnum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Action(StrEnum):
    ASSIGN = "assign"          # routing
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    CONFIRM = "confirm"
    AUTO_CLOSE = "auto_close"
    REOPEN = "reopen"
    TRANSFER = "transfer"
    REJECT = "reject"
    WITHDRAW = "withdraw"


S = Status
# action -> (allowed from-states, to-state, roles allowed; "system" = an event from routing/scheduler)
TRANSITIONS: dict[Action, tuple[frozenset[Status], Status, frozenset[str]]] = {
    Action.ASSIGN: (frozenset({S.SUBMITTED, S.ASSIGNED}), S.ASSIGNED, frozenset({"system"})),
    Action.ACKNOWLEDGE: (frozenset({S.ASSIGNED}), S.IN_PROGRESS, frozenset({"officer", "agency_admin"})),
    Action.RESOLVE: (frozenset({S.IN_PROGRESS}), S.RESOLVED, frozenset({"officer", "agency_admin"})),
    Action.CONFIRM: (frozenset({S.RESOLVED}), S.CLOSED, frozenset({"reporter"})),
    Action.AUTO_CLOSE: (frozenset({S.RESOLVED}), S.CLOSED, frozenset({"system"})),
    Action.REOPEN: (frozenset({S.RESOLVED}), S.ASSIGNED, frozenset({"reporter"})),
    Action.TRANSFER: (frozenset({S.ASSIGNED, S.IN_PROGRESS}), S.ASSIGNED,
                      frozenset({"officer", "agency_admin", "operator", "system"})),
    Action.REJECT: (frozenset({S.SUBMITTED, S.ASSIGNED, S.IN_PROGRESS}), S.REJECTED,
                    frozenset({"officer", "agency_admin", "operator"})),
    Action.WITHDRAW: (frozenset({S.SUBMITTED, S.ASSIGNED}), S.WITHDRAWN, frozenset({"reporter"})),
}


def next_status(current: Status, action: Action, actor: str) -> Status:
    """The state after `action` by `actor`, or FAILED_PRECONDITION / PERMISSION_DENIED."""
    sources, target, roles = TRANSITIONS[action]
    if actor not in roles:
        raise PermissionDenied(f"{actor} may not {action.value}", code="transition_not_allowed")
    if current not in sources:
        raise InvalidTransition(f"cannot {action.value} a report that is {current.value}")
    return target


def clean_text(text: str, *, field: str, minimum: int, maximum: int) -> str:
    """NFC-normalised, trimmed text within length bounds."""
    text = unicodedata.normalize("NFC", (text or "").strip())
    if not minimum <= len(text) <= maximum:
        raise InvalidArgument(f"{field} must be {minimum} to {maximum} characters",
                              code=f"invalid_{field}", field=field)
    return text


def check_point(latitude: float, longitude: float) -> None:
    """The point must lie inside the city's bounding box."""
    south, west, north, east = CITY_BBOX
    if not (south <= latitude <= north and west <= longitude <= east):
        raise OutsideCity("the location is outside Ho Chi Minh City", field="location")

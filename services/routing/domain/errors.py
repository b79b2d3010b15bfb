"""Routing's expected failures, each with a stable code (see gateway/messages/routing.py)."""

from __future__ import annotations

from servicekit.errors import AlreadyExists, AppError, Conflict, InvalidArgument, NotFound, PermissionDenied


class RuleTie(AppError):
    """Two rules would match the same report with equal specificity and priority."""

    code = "rule_tie"


class FallbackMissing(AppError):
    """The rule set would leave an active category group without a city-wide rule."""

    code = "rule_fallback_missing"


class InvalidRule(InvalidArgument):
    """A rule's conditions or target are not valid."""

    code = "invalid_rule"


class RuleNotFound(NotFound):
    """No such rule."""

    code = "rule_not_found"


class RuleExists(AlreadyExists):
    """A rule with this id exists already (pass its version to change it)."""

    code = "rule_exists"


class RuleVersionConflict(Conflict):
    """The rule changed since the caller read it."""

    code = "rule_version_conflict"


class AgencyNotFound(NotFound):
    """No such agency."""

    code = "agency_not_found"


class AgencyExists(AlreadyExists):
    """An agency with this code exists already."""

    code = "agency_exists"


class InvalidAgency(InvalidArgument):
    """An agency's fields are not valid (kind, parent, code)."""

    code = "invalid_agency"


class InvalidCalendarDay(InvalidArgument):
    """The day is not a valid YYYY-MM-DD date in a sensible range."""

    code = "invalid_calendar_day"


class CalendarDayNotFound(NotFound):
    """The city has no decision recorded for that day."""

    code = "calendar_day_not_found"


class AssignmentNotFound(NotFound):
    """No assignment for this report (or the caller may not see it)."""

    code = "assignment_not_found"


class NotYourAgency(PermissionDenied):
    """Officers act only for the agency the report is assigned to."""

    code = "not_assigned_agency"


class InvalidTransfer(InvalidArgument):
    """A transfer needs another, active agency and a reason."""

    code = "invalid_transfer"


class NotTransferable(AppError):
    """The report is finished (resolved, closed, rejected or withdrawn) and cannot be transferred."""

    code = "report_not_transferable"


class AssignmentNotYetKnown(Exception):
    """A status change arrived before the report's assignment: retried by the consumer."""

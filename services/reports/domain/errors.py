"""Reports errors with stable codes."""

from __future__ import annotations

from servicekit.errors import AlreadyExists, AppError, InvalidArgument, NotFound


class UnknownCategory(InvalidArgument):
    """No active category with this code."""

    code = "unknown_category"


class UnknownWard(InvalidArgument):
    """Not one of the 168 commune-level units of Ho Chi Minh City."""

    code = "unknown_ward"


class OutsideCity(InvalidArgument):
    """The point is outside Ho Chi Minh City."""

    code = "location_outside_city"


class ReportNotFound(NotFound):
    """No such report (or not visible to the caller)."""

    code = "report_not_found"


class IdempotencyKeyReused(AlreadyExists):
    """This Idempotency-Key was used with a different request body."""

    code = "idempotency_key_reused"


class InvalidTransition(AppError):
    """The report's state does not allow this action."""

    status = "FAILED_PRECONDITION"
    code = "invalid_transition"


class PhotoRequired(InvalidArgument):
    """The category needs at least one photo from a resident."""

    code = "photo_required"

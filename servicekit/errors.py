"""Base class of errors a service raises on purpose; one interceptor maps them to gRPC status.

Pure Python so that domain modules may subclass it without importing any I/O library.
"""

from __future__ import annotations

ERROR_CODE_KEY = "cds-error-code"     # trailing metadata: the stable error code
ERROR_FIELD_KEY = "cds-error-field"   # trailing metadata: the offending field, when there is one


class AppError(Exception):
    """An expected failure with a stable machine-readable code and a gRPC status name."""

    status = "FAILED_PRECONDITION"
    code = "failed_precondition"

    def __init__(self, message: str = "", *, code: str | None = None, field: str | None = None):
        super().__init__(message or self.__class__.__doc__ or self.code)
        if code:
            self.code = code
        self.field = field


class InvalidArgument(AppError):
    """The request is malformed or a value is out of range."""

    status = "INVALID_ARGUMENT"
    code = "invalid_argument"


class NotFound(AppError):
    """The thing asked for does not exist (or the caller may not know it exists)."""

    status = "NOT_FOUND"
    code = "not_found"


class AlreadyExists(AppError):
    """A unique thing exists already."""

    status = "ALREADY_EXISTS"
    code = "already_exists"


class Unauthenticated(AppError):
    """No valid credentials."""

    status = "UNAUTHENTICATED"
    code = "unauthenticated"


class PermissionDenied(AppError):
    """The caller is known but may not do this."""

    status = "PERMISSION_DENIED"
    code = "permission_denied"


class Conflict(AppError):
    """A concurrent change won (optimistic concurrency)."""

    status = "ABORTED"
    code = "version_conflict"


class TooManyRequests(AppError):
    """Slow down."""

    status = "RESOURCE_EXHAUSTED"
    code = "rate_limited"

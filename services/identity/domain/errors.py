"""Identity errors with stable codes."""

from __future__ import annotations

from servicekit.errors import (AlreadyExists, AppError, InvalidArgument, NotFound, PermissionDenied,
                               TooManyRequests, Unauthenticated)


class InvalidPhone(InvalidArgument):
    """Not a valid Vietnamese mobile number."""

    code = "invalid_phone"


class WeakPassword(InvalidArgument):
    """The password does not meet the policy."""

    code = "weak_password"


class PhoneTaken(AlreadyExists):
    """An account with this phone number exists (only said to staff creating accounts)."""

    code = "phone_taken"


class InvalidCredentials(Unauthenticated):
    """Phone number or password is wrong, or the account is locked (deliberately not saying which)."""

    code = "invalid_credentials"


class RefreshRejected(Unauthenticated):
    """The refresh token is unknown, expired, revoked or already used."""

    code = "refresh_rejected"


class SessionRevoked(Unauthenticated):
    """The access token belongs to a session that was revoked."""

    code = "session_revoked"


class OtpInvalid(Unauthenticated):
    """The code is wrong, expired, used up or was never sent (deliberately not saying which)."""

    code = "otp_invalid"


class OtpCooldown(TooManyRequests):
    """A code was sent to this number less than a minute ago."""

    code = "otp_cooldown"


class InvalidPurpose(InvalidArgument):
    """Not one of the one-time-code purposes."""

    code = "invalid_otp_purpose"


class UserNotFound(NotFound):
    """No such (live) account."""

    code = "user_not_found"


class SessionNotFound(NotFound):
    """No such session of the caller."""

    code = "session_not_found"


class InvalidWard(InvalidArgument):
    """Not one of the 168 commune-level units of Ho Chi Minh City."""

    code = "invalid_ward"


class InvalidPersonalId(InvalidArgument):
    """Not a well-formed 12-digit personal ID number, or it disagrees with the birth date and sex."""

    code = "invalid_personal_id"


class IdentityNotMatched(AppError):
    """The verifier did not confirm this identity (no detail on purpose)."""

    status = "FAILED_PRECONDITION"
    code = "identity_not_matched"


class PhoneNotVerified(AppError):
    """Identity verification needs a verified phone (assurance level 1) first."""

    status = "FAILED_PRECONDITION"
    code = "phone_not_verified"


class VerificationLocked(TooManyRequests):
    """Too many failed identity verifications; wait and try again."""

    code = "verification_locked"


class StaffNotAllowed(PermissionDenied):
    """The caller may not manage this role or agency."""

    code = "staff_not_allowed"


class InvalidRole(InvalidArgument):
    """Unknown role, or an agency is missing / not allowed for it."""

    code = "invalid_role"


class InvalidScope(InvalidArgument):
    """Unknown scope, or a scope the client may not have."""

    code = "invalid_scope"


class InvalidClient(Unauthenticated):
    """Client authentication failed (unknown client, wrong secret or disabled; not saying which)."""

    code = "invalid_client"


class ClientNotFound(NotFound):
    """No such integration client (or not one the caller manages)."""

    code = "client_not_found"

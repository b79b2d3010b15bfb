"""Identity errors with stable codes."""

from __future__ import annotations

from servicekit.errors import AlreadyExists, InvalidArgument, Unauthenticated


class InvalidPhone(InvalidArgument):
    """Not a valid Vietnamese mobile number."""

    code = "invalid_phone"


class WeakPassword(InvalidArgument):
    """The password does not meet the policy."""

    code = "weak_password"


class PhoneTaken(AlreadyExists):
    """An account with this phone number exists."""

    code = "phone_taken"


class InvalidCredentials(Unauthenticated):
    """Phone number or password is wrong (deliberately not saying which)."""

    code = "invalid_credentials"


class RefreshRejected(Unauthenticated):
    """The refresh token is unknown, expired, revoked or already used."""

    code = "refresh_rejected"

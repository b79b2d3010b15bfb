"""Errors the notify service raises on purpose (stable codes, see gateway/messages/notify.py)."""

from __future__ import annotations

from servicekit.errors import AlreadyExists, AppError, InvalidArgument, NotFound, PermissionDenied, TooManyRequests


class TemplateInvalid(InvalidArgument):
    """The template text is malformed or uses a placeholder its message type does not have."""

    code = "template_invalid"


class TemplateValuesMissing(InvalidArgument):
    """A placeholder has no value: we never send a message with a hole in it."""

    code = "template_values_missing"


class UnknownMessageType(InvalidArgument):
    """No such message type or channel."""

    code = "unknown_message_type"


class PreferencesInvalid(InvalidArgument):
    """A preference value is out of range (group, channel, language, time or zone)."""

    code = "preferences_invalid"


class PreferenceLocked(InvalidArgument):
    """Urgent and security messages cannot be switched off."""

    code = "preference_locked"


class AnnouncementInvalid(InvalidArgument):
    """Title and body need both languages; wards must be 5-digit codes; expiry in the future."""

    code = "announcement_invalid"


class AnnouncementScope(PermissionDenied):
    """Ward committee admins may only announce to their own ward."""

    code = "announcement_scope"


class NotificationNotFound(NotFound):
    """No such notification among the caller's."""

    code = "notification_not_found"


class OtpRateLimited(TooManyRequests):
    """Too many codes sent to this number recently."""

    code = "otp_rate_limited"


class NotAMobileNumber(InvalidArgument):
    """SMS goes to Vietnamese mobile numbers only."""

    code = "not_a_mobile_number"


class DuplicateAnnouncement(AlreadyExists):
    """An announcement with this idempotency key exists."""

    code = "announcement_exists"


class OtpNotSent(AppError):
    """The SMS provider did not take the code; identity may retry."""

    status = "UNAVAILABLE"
    code = "otp_not_sent"


class WebhookInvalid(InvalidArgument):
    """The URL or event types of a webhook are not acceptable."""

    code = "webhook_invalid"


class WebhookNotFound(NotFound):
    """No such webhook (or delivery) of the caller's."""

    code = "webhook_not_found"

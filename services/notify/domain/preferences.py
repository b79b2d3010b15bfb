"""A person's notification preferences and the quiet-hours rule."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.notify.domain.errors import PreferenceLocked, PreferencesInvalid
from services.notify.domain.messages import CHANNELS, GROUPS, LANGUAGES

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
DEFAULT_QUIET = ("22:00", "07:00")
HOLD_CHANNELS = frozenset({"email", "sms"})   # what quiet hours delay (inbox and push are silent)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Preferences:
    """Language, channels per group, quiet hours (local time, start == end means none)."""

    language: str = "vi"
    channels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    quiet_start: str = DEFAULT_QUIET[0]
    quiet_end: str = DEFAULT_QUIET[1]
    timezone: str = DEFAULT_TZ

    def channels_for(self, group: str) -> tuple[str, ...]:
        """The chosen channels of `group` (its defaults when never chosen); inbox is always included."""
        chosen = self.channels.get(group, GROUPS[group].default_channels)
        return tuple(dict.fromkeys(("inbox", *chosen)))


def _check_time(value: str, name: str) -> str:
    if not _HHMM.match(value):
        raise PreferencesInvalid(f"{name} must be HH:MM", field=name)
    return value


def updated(current: Preferences, *, language: str | None = None, channels: dict[str, list[str]] | None = None,
            quiet_start: str | None = None, quiet_end: str | None = None,
            timezone: str | None = None) -> Preferences:
    """A validated copy with the given changes; locked groups may gain channels, never lose defaults."""
    if language is not None and language not in LANGUAGES:
        raise PreferencesInvalid("language must be vi or en", field="language")
    merged = dict(current.channels)
    for group, chans in (channels or {}).items():
        if group not in GROUPS:
            raise PreferencesInvalid(f"unknown group {group!r}", field="groups")
        if bad := set(chans) - set(CHANNELS):
            raise PreferencesInvalid(f"unknown channels {sorted(bad)}", field="groups")
        if GROUPS[group].locked and not set(GROUPS[group].default_channels) <= {"inbox", *chans}:
            raise PreferenceLocked(f"{group} messages cannot be switched off", field="groups")
        merged[group] = tuple(dict.fromkeys(chans))
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PreferencesInvalid("unknown time zone", field="timezone") from exc
    return replace(current, language=language or current.language, channels=merged,
                   quiet_start=_check_time(quiet_start, "quiet_hours_start") if quiet_start else current.quiet_start,
                   quiet_end=_check_time(quiet_end, "quiet_hours_end") if quiet_end else current.quiet_end,
                   timezone=timezone or current.timezone)


def _at(day: datetime, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day.date(), time(h, m), tzinfo=day.tzinfo)


def release_time(now: datetime, prefs: Preferences, *, channel: str, urgent: bool) -> datetime:
    """When a message on `channel` may go out: `now`, or the end of the quiet hours it falls in."""
    if urgent or channel not in HOLD_CHANNELS or prefs.quiet_start == prefs.quiet_end:
        return now
    local = now.astimezone(ZoneInfo(prefs.timezone))
    start, end = _at(local, prefs.quiet_start), _at(local, prefs.quiet_end)
    if start < end:                       # e.g. 13:00-14:00 the same day
        return end.astimezone(now.tzinfo) if start <= local < end else now
    if local >= start:                    # e.g. 22:00-07:00: after start, release tomorrow morning
        return (end + timedelta(days=1)).astimezone(now.tzinfo)
    if local < end:                       # early morning, before the end
        return end.astimezone(now.tzinfo)
    return now

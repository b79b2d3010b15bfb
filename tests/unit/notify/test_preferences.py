"""Preferences: validation, locked groups, quiet hours in Ho Chi Minh City time."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.notify.domain.errors import PreferenceLocked, PreferencesInvalid
from services.notify.domain.preferences import Preferences, release_time, updated

HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def local(hour: int, minute: int = 0, day: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=HCM).astimezone(UTC)


def test_defaults_inbox_always_and_quiet_hours_22_to_7():
    p = Preferences()
    assert p.channels_for("reports") == ("inbox",)
    assert p.channels_for("urgent") == ("inbox", "sms")
    assert (p.quiet_start, p.quiet_end, p.timezone) == ("22:00", "07:00", "Asia/Ho_Chi_Minh")


def test_choosing_channels_keeps_inbox():
    p = updated(Preferences(), channels={"reports": ["email", "sms"]})
    assert p.channels_for("reports") == ("inbox", "email", "sms")
    assert updated(p, channels={"reports": []}).channels_for("reports") == ("inbox",)


@pytest.mark.parametrize("group", ["urgent", "security"])
def test_urgent_and_security_cannot_be_switched_off(group):
    with pytest.raises(PreferenceLocked):
        updated(Preferences(), channels={group: ["inbox"]})
    assert "email" in updated(Preferences(), channels={group: ["sms", "email"]}).channels_for(group)


@pytest.mark.parametrize("changes", [
    {"language": "fr"}, {"channels": {"nope": ["email"]}}, {"channels": {"reports": ["fax"]}},
    {"quiet_start": "24:00"}, {"quiet_end": "7:00"}, {"timezone": "Mars/Olympus"},
])
def test_invalid_values_are_rejected(changes):
    with pytest.raises(PreferencesInvalid):
        updated(Preferences(), **changes)


@pytest.mark.parametrize(("now", "expected"), [
    (local(21, 59), local(21, 59)),            # before the quiet hours: now
    (local(22, 0), local(7, 0, day=11)),       # at the start: tomorrow 07:00
    (local(23, 30), local(7, 0, day=11)),
    (local(3, 0), local(7, 0)),                # early morning: this morning 07:00
    (local(7, 0), local(7, 0)),                # at the end: now
    (local(12, 0), local(12, 0)),
])
def test_email_and_sms_wait_for_the_end_of_quiet_hours(now, expected):
    assert release_time(now, Preferences(), channel="email", urgent=False) == expected
    assert release_time(now, Preferences(), channel="sms", urgent=False) == expected


def test_urgent_inbox_and_push_are_never_held():
    night = local(23)
    assert release_time(night, Preferences(), channel="email", urgent=True) == night
    assert release_time(night, Preferences(), channel="push", urgent=False) == night


def test_same_day_window_and_no_window():
    lunch = updated(Preferences(), quiet_start="12:00", quiet_end="13:30")
    assert release_time(local(12, 15), lunch, channel="email", urgent=False) == local(13, 30)
    assert release_time(local(14), lunch, channel="email", urgent=False) == local(14)
    off = updated(Preferences(), quiet_start="00:00", quiet_end="00:00")
    assert release_time(local(23), off, channel="sms", urgent=False) == local(23)

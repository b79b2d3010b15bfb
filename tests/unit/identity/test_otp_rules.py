"""One-time code rules: format, HMAC binding, expiry, tries, cool-down."""

from datetime import UTC, datetime, timedelta

import pytest

from services.identity.domain import otp
from services.identity.domain.errors import InvalidPurpose

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
SECRET = b"k" * 32


def test_codes_are_six_digits_and_vary():
    codes = {otp.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_digest_binds_code_to_phone_and_purpose():
    stored = otp.digest(SECRET, "+84901234567", "login", "012345")
    assert "012345" not in stored and len(stored) == 64
    assert otp.matches(SECRET, "+84901234567", "login", "012345", stored)
    assert otp.matches(SECRET, "+84901234567", "login", " 012345 ", stored)
    assert not otp.matches(SECRET, "+84901234567", "reset_password", "012345", stored)
    assert not otp.matches(SECRET, "+84901234568", "login", "012345", stored)
    assert not otp.matches(b"x" * 32, "+84901234567", "login", "012345", stored)
    assert not otp.matches(SECRET, "+84901234567", "login", "012346", stored)


def test_usable_until_expiry_tries_or_use():
    expires = T0 + otp.TTL
    assert otp.usable(expires_at=expires, attempts=0, consumed_at=None, now=T0)
    assert otp.usable(expires_at=expires, attempts=4, consumed_at=None, now=expires - timedelta(seconds=1))
    assert not otp.usable(expires_at=expires, attempts=0, consumed_at=None, now=expires)
    assert not otp.usable(expires_at=expires, attempts=5, consumed_at=None, now=T0)
    assert not otp.usable(expires_at=expires, attempts=0, consumed_at=T0, now=T0)


def test_policy_numbers_match_the_issue():
    assert (otp.DIGITS, otp.TTL, otp.MAX_ATTEMPTS, otp.RESEND_COOLDOWN) == (
        6, timedelta(minutes=5), 5, timedelta(seconds=60))


@pytest.mark.parametrize(("elapsed", "wait"), [(0, 60), (1, 59), (59.5, 1), (60, 0), (3600, 0)])
def test_resend_cooldown(elapsed, wait):
    assert otp.resend_wait(T0, T0 + timedelta(seconds=elapsed)) == wait


def test_first_code_needs_no_wait():
    assert otp.resend_wait(None, T0) == 0


def test_purposes():
    assert [otp.check_purpose(p) for p in otp.PURPOSES] == list(otp.PURPOSES)
    with pytest.raises(InvalidPurpose):
        otp.check_purpose("anything")

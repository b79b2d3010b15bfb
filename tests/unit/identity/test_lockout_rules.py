"""Growing waits after repeated failures."""

from datetime import UTC, datetime, timedelta

from services.identity.domain.lockout import ACCOUNT, IP, LockoutPolicy, locked

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)


def test_no_wait_below_threshold_then_doubling_up_to_cap():
    policy = LockoutPolicy(threshold=3, base=timedelta(seconds=30), cap=timedelta(minutes=5))
    waits = [policy.wait_after(n).total_seconds() for n in range(1, 9)]
    assert waits == [0, 0, 30, 60, 120, 240, 300, 300]


def test_account_locks_before_ip():
    assert ACCOUNT.wait_after(5) > timedelta(0) and ACCOUNT.wait_after(4) == timedelta(0)
    assert IP.wait_after(19) == timedelta(0) and IP.wait_after(20) > timedelta(0)


def test_huge_counts_do_not_overflow():
    assert ACCOUNT.wait_after(10_000) == ACCOUNT.cap


def test_failures_are_forgotten_after_the_lock_and_the_window():
    policy = LockoutPolicy(threshold=5, base=timedelta(seconds=30), window=timedelta(minutes=15))
    assert policy.counted(3, T0, T0 + timedelta(minutes=14)) == 3
    assert policy.counted(3, T0, T0 + timedelta(minutes=16)) == 0
    # a lock extends memory: 7 failures -> 120 s lock, remembered for lock + window
    assert policy.counted(7, T0, T0 + timedelta(minutes=16)) == 7
    assert policy.counted(7, T0, T0 + timedelta(minutes=18)) == 0
    assert policy.counted(0, None, T0) == 0


def test_locked():
    assert locked(T0 + timedelta(seconds=1), T0)
    assert not locked(T0, T0) and not locked(None, T0)

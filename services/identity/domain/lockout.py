"""Brute-force protection: after a threshold of failures within a window, waits that double each time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LockoutPolicy:
    """`threshold` failures lock for `base`; each further failure doubles the wait up to `cap`.

    Failures are forgotten once `window` has passed since the last one and its lock ended.
    """

    threshold: int
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    window: timedelta = timedelta(minutes=15)

    def wait_after(self, failures: int) -> timedelta:
        """How long the key is locked after its `failures`-th failure (zero below the threshold)."""
        if failures < self.threshold:
            return timedelta(0)
        doublings = min(failures - self.threshold, 20)
        return min(self.base * (2 ** doublings), self.cap)

    def counted(self, failures: int, last_failure_at: datetime | None, now: datetime) -> int:
        """Failures still counted now (0 once the lock and then the window have passed)."""
        if last_failure_at is None or now - last_failure_at > self.wait_after(failures) + self.window:
            return 0
        return failures


ACCOUNT = LockoutPolicy(threshold=5)
IP = LockoutPolicy(threshold=20)
IDENTITY_CHECK = LockoutPolicy(threshold=5, base=timedelta(minutes=5), cap=timedelta(hours=24))


def locked(locked_until: datetime | None, now: datetime) -> bool:
    """Whether a lock is still in force."""
    return locked_until is not None and now < locked_until

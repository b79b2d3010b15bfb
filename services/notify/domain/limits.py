"""Per-channel protection of providers: a circuit breaker and a sending rate (token bucket)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


@dataclass
class CircuitBreaker:
    """Opens after `threshold` consecutive provider failures; messages wait (they are not claimed)
    until `cooldown` has passed, then one trial send decides whether it closes again."""

    clock: Callable[[], datetime]
    threshold: int = 5
    cooldown: timedelta = timedelta(seconds=60)
    failures: int = 0
    opened_at: datetime | None = None

    @property
    def state(self) -> str:
        """closed | open | half-open."""
        if self.opened_at is None:
            return CLOSED
        return HALF_OPEN if self.clock() - self.opened_at >= self.cooldown else OPEN

    def allowance(self, wanted: int) -> int:
        """How many sends may start now: all when closed, one trial when half-open, none when open."""
        return {CLOSED: wanted, HALF_OPEN: min(wanted, 1), OPEN: 0}[self.state]

    def succeeded(self) -> None:
        """A send went through: close."""
        self.failures, self.opened_at = 0, None

    def failed(self) -> None:
        """A provider failure (not a bad address): count, open at the threshold, reopen after a failed trial."""
        self.failures += 1
        if self.failures >= self.threshold or self.state == HALF_OPEN:
            self.opened_at = self.clock()


@dataclass
class TokenBucket:
    """At most `per_minute` sends per minute, in bursts of up to `per_minute`."""

    clock: Callable[[], datetime]
    per_minute: int
    tokens: float = field(default=-1.0)
    at: datetime | None = None

    def take(self, wanted: int) -> int:
        """Grant up to `wanted` sends now."""
        now = self.clock()
        if self.at is None or self.tokens < 0:
            self.tokens, self.at = float(self.per_minute), now
        elapsed = max(0.0, (now - self.at).total_seconds())
        self.tokens = min(float(self.per_minute), self.tokens + elapsed * self.per_minute / 60.0)
        self.at = now
        granted = min(wanted, int(self.tokens))
        self.tokens -= granted
        return granted

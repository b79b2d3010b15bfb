"""Circuit breaker and token bucket with a hand-moved clock."""

from datetime import UTC, datetime, timedelta

from services.notify.domain.limits import CLOSED, HALF_OPEN, OPEN, CircuitBreaker, TokenBucket


class Clock:
    def __init__(self):
        self.now = datetime(2026, 3, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_breaker_opens_at_the_threshold_waits_then_trials_one_send():
    clock = Clock()
    breaker = CircuitBreaker(clock, threshold=3, cooldown=timedelta(seconds=60))
    for _ in range(2):
        breaker.failed()
    assert breaker.state == CLOSED and breaker.allowance(10) == 10
    breaker.failed()
    assert breaker.state == OPEN and breaker.allowance(10) == 0
    clock.now += timedelta(seconds=60)
    assert breaker.state == HALF_OPEN and breaker.allowance(10) == 1
    breaker.failed()                                    # the trial failed: open again
    assert breaker.state == OPEN
    clock.now += timedelta(seconds=61)
    breaker.succeeded()
    assert breaker.state == CLOSED and breaker.failures == 0


def test_bucket_grants_a_burst_then_refills_with_time():
    clock = Clock()
    bucket = TokenBucket(clock, per_minute=60)
    assert bucket.take(100) == 60
    assert bucket.take(5) == 0
    clock.now += timedelta(seconds=10)
    assert bucket.take(100) == 10
    clock.now += timedelta(hours=1)
    assert bucket.take(100) == 60

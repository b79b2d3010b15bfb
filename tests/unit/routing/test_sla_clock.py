"""The SLA clock state machine: warn at 80 %, escalate at the deadline, each step once."""

from datetime import UTC, datetime, timedelta

from services.routing.domain import sla

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
H = timedelta(hours=1)


def clock() -> sla.Clock:
    return sla.start("r1", sla.RESOLVE, "so_xd", T0, T0 + 10 * H)


def test_warning_falls_at_eighty_percent():
    c = clock()
    assert c.warn_at == T0 + 8 * H and c.next_at() == c.warn_at


def test_nothing_before_the_warning():
    c, actions = sla.advance(clock(), T0 + 7 * H)
    assert actions == [] and c == clock()


def test_warn_then_escalate_each_once():
    c, actions = sla.advance(clock(), T0 + 8 * H)
    assert actions == [sla.WARN] and c.next_at() == T0 + 10 * H
    c, again = sla.advance(c, T0 + 9 * H)
    assert again == []
    c, actions = sla.advance(c, T0 + 10 * H)
    assert actions == [sla.ESCALATE] and c.breached_at == T0 + 10 * H and c.next_at() is None
    assert sla.advance(c, T0 + 100 * H)[1] == []


def test_breach_found_late_escalates_without_a_stale_warning():
    c, actions = sla.advance(clock(), T0 + 30 * H)
    assert actions == [sla.ESCALATE] and c.warned_at is not None and c.next_at() is None


def test_stopped_clock_fires_nothing():
    c = sla.stop(clock(), T0 + H)
    assert c.next_at() is None and sla.advance(c, T0 + 20 * H) == (c, [])
    assert sla.stop(c, T0 + 2 * H).stopped_at == T0 + H  # stopping twice keeps the first time


def test_a_breached_clock_is_not_stopped_afterwards():
    breached, _ = sla.advance(clock(), T0 + 11 * H)
    assert sla.stop(breached, T0 + 12 * H) == breached

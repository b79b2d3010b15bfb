"""InboxTail over a fake inbox: late commits below the cursor are sent once, the window slides."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from services.notify.service_layer import live
from services.notify.service_layer.live import InboxTail, id_floor
from servicekit.events import new_id


def test_the_floor_of_a_moment_sorts_between_the_ids_made_before_and_after_it():
    before = new_id()
    time.sleep(0.002)
    floor = id_floor(time.time())
    time.sleep(0.002)
    after = new_id()
    assert before < floor < after
    assert id_floor(0) == "00000000-0000-0000-0000-000000000000"


class Inbox:
    """Committed inbox ids of one person, and the views InboxTail reads them through."""

    def __init__(self):
        self.ids: list[str] = []

    async def ids_between(self, session, user_id, low, high):  # noqa: ANN001, ANN201
        return [i for i in self.ids if low < i <= high]

    async def items_by_ids(self, session, ids):  # noqa: ANN001, ANN201
        return [SimpleNamespace(id=i) for i in sorted(ids)]

    async def items_after(self, session, user_id, after, limit=100):  # noqa: ANN001, ANN201
        return [SimpleNamespace(id=i) for i in sorted(i for i in self.ids if i > after)[:limit]]


@pytest.fixture
def inbox(monkeypatch):
    fake = Inbox()
    for name in ("ids_between", "items_by_ids", "items_after"):
        monkeypatch.setattr(live.views, name, getattr(fake, name))
    return fake


def at(seconds: float, n: int = 0) -> str:
    """An id made at unix time `seconds` (n orders ids within the millisecond)."""
    return f"{id_floor(seconds)[:14]}7{n:03x}-8000-000000000000"


async def poll(tail: InboxTail) -> list[str]:
    return [n.id for n in await tail.poll(None)]


async def test_late_items_inside_the_window_are_sent_once_and_older_ones_are_not_re_read(inbox):
    now = [1_000_000.0]
    tail = InboxTail("u", at(999_990), lookback=30, wall=lambda: now[0])
    await tail.start(None)
    inbox.ids += [at(1_000_000, 2)]
    assert await poll(tail) == [at(1_000_000, 2)]
    inbox.ids += [at(1_000_000, 1), at(999_995)]          # committed late, below the cursor
    assert await poll(tail) == [at(999_995), at(1_000_000, 1)]
    assert await poll(tail) == []
    now[0] += 31                                           # the window moved past them all
    inbox.ids += [at(1_000_000, 0)]                        # too late now: beyond the look-back
    assert await poll(tail) == [] and tail.sent == set()


async def test_start_counts_the_window_up_to_the_position_as_sent(inbox):
    inbox.ids += [at(999_960), at(999_980), at(999_990), at(999_995)]
    tail = InboxTail("u", at(999_990), lookback=30, wall=lambda: 1_000_000.0)
    await tail.start(None)
    assert tail.sent == {at(999_980), at(999_990)}         # 999_960 is outside the window
    assert await poll(tail) == [at(999_995)]


async def test_a_woken_check_re_reads_only_the_recent_seconds_and_the_next_full_check_the_rest(inbox):
    now = [1_000_000.0]
    tail = InboxTail("u", at(999_990), lookback=30, wall=lambda: now[0])
    await tail.start(None)
    inbox.ids += [at(1_000_000, 5)]
    assert [n.id for n in await tail.poll(None, recent=2)] == [at(1_000_000, 5)]
    inbox.ids += [at(999_999, 1), at(999_980)]             # late: one recent, one from 20 s ago
    assert [n.id for n in await tail.poll(None, recent=2)] == [at(999_999, 1)]
    assert await poll(tail) == [at(999_980)]               # the full window: sent now, and once
    assert await poll(tail) == [] and [n.id for n in await tail.poll(None, recent=2)] == []

"""servicekit.heap: start-up objects leave the collector's walks; garbage is still collected."""

from __future__ import annotations

import gc
import weakref

import pytest

from servicekit.heap import freeze_startup_heap


class Node:
    def __init__(self) -> None:
        self.me = self   # a reference cycle: only the cycle collector frees it


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_start_up_garbage_is_collected_not_frozen_and_live_objects_are_frozen(unfrozen):
    garbage, kept = Node(), Node()
    dead = weakref.ref(garbage)
    del garbage
    frozen = freeze_startup_heap()
    assert dead() is None                     # collected before freezing, not kept forever
    assert frozen == gc.get_freeze_count() > 0
    assert not any(o is kept for o in gc.get_objects())   # frozen objects are no longer tracked by generations


def test_garbage_made_after_freezing_is_still_collected(unfrozen):
    freeze_startup_heap()
    later = Node()
    dead = weakref.ref(later)
    del later
    gc.collect()
    assert dead() is None

"""TtlCache: per database, expires after its TTL, forgets on clear (even a load in flight)."""

from __future__ import annotations

from types import SimpleNamespace

from servicekit.cache import TtlCache


class Db:
    """Stands in for an engine (weakly referenced by the cache)."""


def session_of(db: Db) -> SimpleNamespace:
    return SimpleNamespace(bind=SimpleNamespace(sync_engine=db))


class Loader:
    def __init__(self):
        self.calls = 0

    async def __call__(self) -> int:
        self.calls += 1
        return self.calls


async def test_values_are_kept_per_database_until_the_ttl_runs_out():
    now = [0.0]
    cache, load = TtlCache(5.0, clock=lambda: now[0]), Loader()
    one, two = session_of(Db()), session_of(Db())
    assert [await cache.get(one, "k", load), await cache.get(one, "k", load)] == [1, 1]
    assert await cache.get(two, "k", load) == 2
    now[0] = 4.9
    assert await cache.get(one, "k", load) == 1
    now[0] = 5.0
    assert await cache.get(one, "k", load) == 3


async def test_clear_drops_everything_and_a_load_that_straddles_it_is_not_kept():
    cache = TtlCache(5.0, clock=lambda: 0.0)
    session = session_of(Db())

    async def racing() -> str:
        cache.clear()                      # a local write lands while the old value is being read
        return "old"

    assert await cache.get(session, "k", racing) == "old"
    assert await cache.get(session, "k", Loader()) == 1


async def test_expired_entries_are_pruned_beyond_max_entries():
    now = [0.0]
    cache, session = TtlCache(1.0, clock=lambda: now[0], max_entries=2), session_of(Db())
    for key in "abc":
        await cache.get(session, key, Loader())
        now[0] += 1.0
    assert len(cache._entries[session.bind.sync_engine]) <= 2

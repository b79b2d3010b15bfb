"""A small in-process cache for tables that change rarely (notify: templates, webhook subscriptions,
officers; routing: rules, agencies, SLAs, the working calendar).

Why: consumers read these for every event (several statements each) while they change a few times
a day. Why by hand: the values are loaded with the caller's async session, per database, and
dropped on local writes; cachetools is not a dependency and its TTLCache is not async-aware.

Correctness with several replicas: a write in this process drops the cache here at once; other
replicas see it when their entry expires, so `ttl` bounds how stale a replica can be. Values must
be immutable snapshots (tuples, frozen dataclasses), never ORM objects bound to a session.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from sqlalchemy.engine import Engine


class TtlCache:
    """key -> value loaded from the database, per engine, kept for `ttl` seconds."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic, max_entries: int = 1024):
        self.ttl, self.clock, self.max_entries = ttl, clock, max_entries
        # per engine: one process may hold several databases (tests do)
        self._entries: weakref.WeakKeyDictionary[Engine, dict[Hashable, tuple[float, Any]]] = \
            weakref.WeakKeyDictionary()

    async def get(self, session, key: Hashable, load: Callable[[], Awaitable[Any]]) -> Any:  # noqa: ANN001, ANN401
        """The cached value of `key` for the session's database, else `await load()` (then cached)."""
        entries = self._entries.setdefault(session.bind.sync_engine, {})
        now = self.clock()
        hit = entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await load()
        # after a clear() meanwhile `entries` is no longer reachable: this load is not kept
        entries[key] = (now + self.ttl, value)
        if len(entries) > self.max_entries:
            for stale in [k for k, (expires, _) in entries.items() if expires <= now]:
                del entries[stale]
        return value

    def clear(self) -> None:
        """Forget everything (after a local write)."""
        self._entries.clear()

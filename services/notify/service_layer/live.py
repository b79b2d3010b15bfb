"""Following one person's inbox live (WatchNotifications, the gateway's SSE) without losing late commits.

Inbox ids are UUIDv7 strings made before the commit, so on PostgreSQL two transactions (two
replicas, or two units of work of one process) can commit out of id order: a stream that already
sent id B and asks only for "id > B" skips an A < B committed a moment later, for good. So every
poll also re-reads the ids of the last LOOKBACK_SECONDS that are at or below the cursor (an
index-only range scan on (user_id, id)) and sends the ones it has not sent; the ids sent inside
that window are remembered, so each item goes out once.

Why not a database sequence with a safety lag: a bigserial is drawn at INSERT, not at COMMIT, so
it has the same gap, and holding items back by a lag delays every live update; the commit-safe
tools (pg_snapshot_xmin, logical decoding) are PostgreSQL-only while the embedded mode is SQLite.

Limits: an item whose transaction commits more than LOOKBACK_SECONDS after its id was made, or made
on a replica whose clock is that far behind this one's, can still be missed by a running stream
(it is in the inbox all the same). Transactions here last milliseconds, clocks are NTP-synced, and
uuid6 only ever moves ids ahead of the clock (under bursts), which cannot shrink the window.
Announcement items get their id when their fan-out chunk is written for the same reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from services.notify.adapters.orm import Notification
from services.notify.service_layer import views

LOOKBACK_SECONDS = 30.0
RECENT_SECONDS = 2.0   # what a check woken by a commit re-reads (see InboxTail.poll)


def id_floor(unix_seconds: float) -> str:
    """The smallest UUIDv7 string of that millisecond: ids made at or after it compare greater."""
    ms = f"{max(0, int(unix_seconds * 1000)):012x}"
    return f"{ms[:8]}-{ms[8:]}-0000-0000-000000000000"


class InboxTail:
    """A live stream's position in one person's inbox: a cursor plus the ids sent in the look-back window."""

    def __init__(self, user_id: str, after: str, *, lookback: float = LOOKBACK_SECONDS,
                 wall: Callable[[], float] = time.time, batch: int = 100):
        self.user_id, self.cursor = user_id, after
        self.lookback, self.wall, self.batch = lookback, wall, batch
        self.sent: set[str] = set()

    def floor(self) -> str:
        """Items with ids above this may still be committing: the window re-read on every poll."""
        return id_floor(self.wall() - self.lookback)

    async def start(self, session) -> None:  # noqa: ANN001
        """Count the window's items up to the start position as sent: the client has them (or started after)."""
        floor = self.floor()
        if floor < self.cursor:
            self.sent = set(await views.ids_between(session, self.user_id, floor, self.cursor))

    async def poll(self, session, *, recent: float | None = None) -> list[Notification]:  # noqa: ANN001
        """What to send now: late commits below the cursor first, then new items, each once.

        `recent`: re-read only that many seconds below the cursor, not the whole look-back window (a
        check woken by a commit: the items that woke it were made moments ago; the regular check still
        re-reads the whole window, so a longer transaction's item comes at most one period later)."""
        floor = self.floor()
        scan = max(floor, id_floor(self.wall() - recent)) if recent is not None else floor
        late: list[Notification] = []
        if scan < self.cursor:
            known = await views.ids_between(session, self.user_id, scan, self.cursor)
            late = await views.items_by_ids(session, [i for i in known if i not in self.sent][:self.batch])
        fresh = await views.items_after(session, self.user_id, self.cursor, self.batch)
        if fresh:
            self.cursor = fresh[-1].id
        self.sent = {i for i in self.sent if i > floor} | {n.id for n in late + fresh}
        return late + fresh

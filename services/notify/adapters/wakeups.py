"""Waking live inbox streams (WatchNotifications, the gateway's SSE) the moment their items commit.

A stream checks its person's inbox (service_layer.live) at least every `watch_poll` seconds: that
is the guarantee, and what makes any replica able to serve any client. On top of it, a unit of
work that wrote inbox items publishes the people's ids after its commit on the core NATS subject
`live.notify.wake` (outside every JetStream stream's subjects, so nothing stores it: a lost wake-up
only means the next regular check), and every notify replica, this one included, wakes the streams
it holds for them. An open app then gets an item milliseconds after it commits instead of up to a
second later, whichever replica holds the stream.
Announcements do not wake streams (a million recipients at once); their items arrive at the
regular check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator

log = logging.getLogger(__name__)

SUBJECT = "live.notify.wake"
PER_MESSAGE = 1000   # user ids per message (36 characters each: well under NATS' 1 MB payload)


class InboxWakeups:
    """The streams this process holds, by person, and the NATS subject that wakes them."""

    def __init__(self) -> None:
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._nc = None
        self._sub = None

    @contextlib.contextmanager
    def watching(self, user_id: str) -> Iterator[asyncio.Event]:
        """An event set whenever `user_id`'s inbox got items (the stream clears it before each check)."""
        woken = asyncio.Event()
        self._waiting.setdefault(user_id, set()).add(woken)
        try:
            yield woken
        finally:
            events = self._waiting.get(user_id)
            if events is not None:
                events.discard(woken)
                if not events:
                    del self._waiting[user_id]

    def watchers(self, user_id: str) -> int:
        """How many of this process's streams follow `user_id`."""
        return len(self._waiting.get(user_id, ()))

    def wake_here(self, user_ids: Iterable[str]) -> None:
        """Wake this process's streams of these people."""
        for user_id in user_ids:
            for woken in self._waiting.get(user_id, ()):
                woken.set()

    async def attach(self, nc) -> None:  # noqa: ANN001
        """Receive every replica's wake-ups (own ones included) on `nc`."""
        self._nc = nc
        self._sub = await nc.subscribe(SUBJECT, cb=self._received)

    async def _received(self, msg) -> None:  # noqa: ANN001
        if self._waiting:
            self.wake_here(msg.data.decode("ascii", "replace").split())

    async def wake(self, user_ids: set[str]) -> None:
        """After a commit: tell every replica (or, without NATS, this process) that these inboxes changed."""
        if not user_ids:
            return
        if self._nc is None or not self._nc.is_connected:
            self.wake_here(user_ids)
            return
        ids = sorted(user_ids)
        try:
            for i in range(0, len(ids), PER_MESSAGE):
                await self._nc.publish(SUBJECT, " ".join(ids[i:i + PER_MESSAGE]).encode("ascii"))
        except Exception:  # noqa: BLE001 - the streams' regular check delivers the items anyway
            log.warning("inbox wake-up not published", exc_info=True)
            self.wake_here(user_ids)

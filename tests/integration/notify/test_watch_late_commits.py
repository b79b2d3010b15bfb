"""WatchNotifications when inbox items commit out of id order (ids are made before the commit):
a stream already past a higher id still sends the lower one, and every item exactly once."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest

from congdanso.notify.v1 import notify_pb2
from services.notify.adapters.orm import Notification
from services.notify.adapters.sms import FileSmsProvider
from services.notify.entrypoints.servicer import NotifyServicer
from services.notify.service_layer import announcements
from services.notify.service_layer.announcements import PublishAnnouncement
from servicekit.auth import Principal, current_principal
from servicekit.events import new_id
from tests.conftest import POSTGRES
from tests.integration.notify.conftest import recipient

ME = "u-watch-late"
OPERATOR = Principal(user_id="op-1", role="operator")


def item(item_id: str, user_id: str = ME) -> Notification:
    return Notification(id=item_id, user_id=user_id, type="report_submitted", title="t", body="b",
                        report_id="", dedupe_key=f"test:{item_id}", created_at=datetime.now(UTC))


class Stream:
    """A WatchNotifications call driven directly (its caller set in the auth context variable)."""

    def __init__(self, db, tmp_path, after_id: str = ""):  # noqa: ANN001
        servicer = NotifyServicer(db.uow, FileSmsProvider(tmp_path / "sms.jsonl"), otp_secret="k",
                                  watch_poll=0.02, heartbeat=0.1)
        self.calls = servicer.WatchNotifications(notify_pb2.WatchNotificationsRequest(after_id=after_id), None)

    async def next(self, timeout: float = 5.0) -> notify_pb2.Notification:
        """The next message, heartbeats included."""
        return await asyncio.wait_for(anext(self.calls), timeout)

    async def item(self, timeout: float = 5.0) -> str:
        """The id of the next inbox item (skipping heartbeats)."""
        async with asyncio.timeout(timeout):
            while not (n := await self.next()).id:
                pass
        return n.id

    async def nothing_more(self, heartbeats: int = 3) -> None:
        """Only heartbeats for a while (several polls)."""
        for _ in range(heartbeats):
            assert (await self.next()).id == ""

    async def started(self) -> Stream:
        """Wait until the stream polls (its first heartbeat)."""
        await self.nothing_more(1)
        return self

    async def close(self) -> None:
        await self.calls.aclose()


@pytest.fixture
async def stream(db, tmp_path):
    token = current_principal.set(Principal(user_id=ME, role="citizen"))
    opened: list[Stream] = []

    async def open_(after_id: str = "") -> Stream:
        opened.append(s := Stream(db, tmp_path, after_id))
        return await s.started()

    yield open_
    for s in opened:
        with contextlib.suppress(Exception):
            await s.close()
    current_principal.reset(token)


async def test_an_item_committed_after_a_higher_id_is_still_sent_and_each_only_once(db, stream):
    live = await stream()
    low, high = new_id(), new_id()
    assert low < high
    await db.add(item(high))                    # the later id commits first ...
    assert await live.item() == high            # ... and the stream moves past it
    await db.add(item(low))                     # then the earlier id commits
    assert await live.item() == low
    await live.nothing_more()                   # neither is sent again


@pytest.mark.skipif(not POSTGRES, reason="SQLite writers take turns: no two open write transactions")
async def test_concurrent_transactions_committing_out_of_id_order(db, stream):
    live = await stream()
    async with db.uow() as slow:
        slow.session.add(item(early := new_id()))
        await slow.session.flush()              # id made and row written, not yet committed
        await db.add(item(late := new_id()))    # another transaction commits a higher id
        assert await live.item() == late
        await slow.commit()
    assert await live.item() == early
    await live.nothing_more()


async def test_a_resumed_stream_sends_late_commits_but_not_what_it_resumed_after(db, stream):
    old, low, high = new_id(), new_id(), new_id()
    await db.add(item(old), item(high))
    live = await stream(after_id=high)          # the client has everything up to `high`
    await db.add(item(low))
    assert await live.item() == low
    await live.nothing_more()


async def test_late_announcement_chunks_reach_a_stream_that_moved_on(db, stream):
    await db.add(recipient(user_id=ME, ward="26743"))
    async with db.uow() as uow:
        ann = await announcements.publish(uow, PublishAnnouncement(
            title_vi="Cắt nước", title_en="Water cut", body_vi="Cắt nước sáng mai.", body_en="No water tomorrow.",
            ward_codes=("26743",)), OPERATOR)
    live = await stream()
    await db.add(item(newer := new_id()))       # something newer than the announcement arrives first
    assert await live.item() == newer
    assert await announcements.fan_out_pending(db.uow) == 1
    got = await live.item()
    [mine] = await db.all(Notification, Notification.announcement_id == ann.id)
    assert got == mine.id and mine.id > newer   # ids sort by when items reach the inbox
    await live.nothing_more()

"""Live streams are woken by the commit that gives their person an inbox item: over a real
nats-server, from the replica that wrote the item to the replica holding the stream."""

from __future__ import annotations

import asyncio
import contextlib

import nats.js.errors
import pytest

from congdanso.notify.v1 import notify_pb2
from services.notify.adapters.orm import outbox
from services.notify.adapters.sms import FileSmsProvider
from services.notify.adapters.wakeups import SUBJECT, InboxWakeups
from services.notify.entrypoints.servicer import NotifyServicer
from services.notify.service_layer import handlers
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork
from servicekit import natsio
from servicekit.auth import Principal, current_principal
from tests.integration.notify.conftest import assigned_event, received, recipient

ME = "u-woken"
HOUR = 3600.0   # the streams' regular check: never within a test, so only a wake-up can deliver


@contextlib.asynccontextmanager
async def replica(nats_url: str, name: str):  # noqa: ANN201
    """One notify replica's wake-ups on its own NATS connection."""
    nc = await natsio.connect(nats_url, name=name)
    wakeups = InboxWakeups()
    await wakeups.attach(nc)
    try:
        yield wakeups
    finally:
        await nc.close()


async def first_item(db, tmp_path, wakeups: InboxWakeups):  # noqa: ANN001, ANN201
    """Open ME's stream on `wakeups` (checks every hour, heartbeat after each empty check) and
    return it once it has checked the inbox once."""
    servicer = NotifyServicer(db.uow, FileSmsProvider(tmp_path / "sms.jsonl"), otp_secret="k",
                              watch_poll=HOUR, heartbeat=0.0, wakeups=wakeups)
    calls = servicer.WatchNotifications(notify_pb2.WatchNotificationsRequest(), None)
    assert (await asyncio.wait_for(anext(calls), 10)).id == ""   # checked: nothing yet
    return calls


async def write_item(db, wake) -> None:  # noqa: ANN001
    """A consumer's transaction on the writing replica: ME's report got assigned."""
    async with NotifyUnitOfWork(db.sessions, outbox, wake=wake) as uow:
        await handlers.on_status_changed(received(assigned_event(ME), "reports"), uow)
        await uow.commit()


@pytest.fixture
def me():
    token = current_principal.set(Principal(user_id=ME, role="citizen"))
    yield
    current_principal.reset(token)


async def test_a_commit_on_one_replica_wakes_the_stream_held_by_another(db, tmp_path, nats_server, me):
    await db.add(recipient(ME))
    async with replica(nats_server.url, "writer") as writer, replica(nats_server.url, "holder") as holder:
        calls = await first_item(db, tmp_path, holder)
        await write_item(db, writer.wake)
        item = await asyncio.wait_for(anext(calls), 10)
        await calls.aclose()
    assert item.type == "report_assigned" and item.id == (await db.inbox(ME))[0].id


async def test_without_nats_the_writing_process_wakes_its_own_streams(db, tmp_path, me):
    await db.add(recipient(ME))
    wakeups = InboxWakeups()   # never attached: NATS unavailable
    calls = await first_item(db, tmp_path, wakeups)
    await write_item(db, wakeups.wake)
    item = await asyncio.wait_for(anext(calls), 10)
    await calls.aclose()
    assert item.type == "report_assigned"


async def test_a_rolled_back_transaction_wakes_no_one(db, me):
    await db.add(recipient(ME))
    woken: list[set[str]] = []

    async def wake(users: set[str]) -> None:
        woken.append(users)

    async with NotifyUnitOfWork(db.sessions, outbox, wake=wake) as uow:
        await handlers.on_status_changed(received(assigned_event(ME), "reports"), uow)
    assert woken == [] and await db.inbox(ME) == []
    await write_item(db, wake)
    assert woken == [{ME}]


async def test_a_closed_stream_stops_listening(nats_server):
    async with replica(nats_server.url, "r") as wakeups:
        with wakeups.watching(ME) as woken:
            await wakeups.wake({ME, "someone-else"})
            await asyncio.wait_for(woken.wait(), 10)
        assert wakeups.watchers(ME) == 0


async def test_wake_ups_are_not_stored_by_any_jetstream_stream(nats_server):
    """A core-NATS subject inside a stream's subjects (notify.> ...) would be persisted on every commit."""
    nc = await natsio.connect(nats_server.url, name="t")
    js = nc.jetstream(timeout=5)
    await natsio.ensure_streams(js)
    try:
        with pytest.raises(nats.js.errors.NoStreamResponseError):
            await js.publish(SUBJECT, b"u-1")   # JetStream answers only for a subject some stream takes
    finally:
        await nc.close()

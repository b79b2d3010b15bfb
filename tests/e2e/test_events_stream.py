"""GET /api/v1/events (server-sent events) against the whole system: a client that drops off and comes
back with Last-Event-ID gets exactly what it missed, once; a quiet stream carries heartbeats."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from tests.e2e.conftest import CITIZEN, OFFICER, bearer, poll, signed_up
from tests.e2e.photos import with_photo

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
DUMPING = {"kind": "incident", "category_code": "illegal_dumping",
           "description": "Xà bần đổ trộm ở góc đường, chắn lối đi",
           "location": {"latitude": 10.7725, "longitude": 106.6980, "ward_code": "26743", "address": "Hẻm 14"}}


class Events:
    """Reads one SSE stream block by block: {"id", "event", "data"} for events, {"comment": ...} for pings."""

    def __init__(self, response: httpx.Response):
        self.response, self.lines = response, response.aiter_lines()
        self.position = ""  # the id of the stream's first block: where it starts

    async def next(self, timeout: float = 20.0) -> dict[str, str]:
        block: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while True:
            line = await asyncio.wait_for(anext(self.lines), max(0.01, deadline - time.monotonic()))
            if line == "":
                if block:
                    return block
                continue
            if line.startswith(":"):
                block["comment"] = line[1:].strip()
                continue
            name, _, value = line.partition(":")
            block[name] = value[1:] if value.startswith(" ") else value

    async def notification(self, timeout: float = 20.0) -> dict[str, str]:
        """The next notification event (skipping retry hints and heartbeats)."""
        deadline = time.monotonic() + timeout
        while True:
            block = await self.next(max(0.01, deadline - time.monotonic()))
            if block.get("event") == "notification":
                return block


@asynccontextmanager
async def stream(system, headers: dict, last_event_id: str | None = None) -> AsyncIterator[Events]:  # noqa: ANN001
    extra = {"Last-Event-ID": last_event_id} if last_event_id else {}
    async with system.http.stream("GET", "/api/v1/events", headers={**headers, **extra},
                                  timeout=httpx.Timeout(10, read=None)) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = Events(r)
        first = await events.next()
        assert first.keys() == {"retry", "id"} and first["retry"] == "3000", first
        events.position = first["id"]
        yield events


async def inbox_ids(system, headers: dict) -> list[str]:  # noqa: ANN001
    """Every notification id of the account, oldest first."""
    ids, cursor = [], ""
    while True:
        page = (await system.http.get("/api/v1/notifications", params={"limit": 100, "cursor": cursor},
                                      headers=headers)).json()
        ids += [n["id"] for n in page["items"]]
        if not (cursor := page["next_cursor"]):
            return sorted(ids)


async def test_reconnecting_with_last_event_id_replays_exactly_what_was_missed(system):
    citizen, officer = await system.token(CITIZEN), await system.token(OFFICER)
    async with stream(system, citizen) as live:
        r = await system.http.post("/api/v1/reports", json=await with_photo(system, citizen, DUMPING), headers=citizen)
        assert r.status_code == 201, r.text
        report_id = r.json()["id"]
        seen = await live.notification()
        assert seen["id"] and f'"report_id":"{report_id}"' in seen["data"]
    # disconnected: the report is routed, the officer comments; both reach the inbox meanwhile
    ack = await system.http.post(f"/api/v1/reports/{report_id}/comments", headers=officer,
                                 json={"body": "Đã ghi nhận, tổ thu gom sẽ đến trong ngày."})
    assert ack.status_code == 201, ack.text

    async def commented() -> list[str] | None:
        items = (await system.http.get("/api/v1/notifications", params={"limit": 100}, headers=citizen)).json()["items"]
        mine = {i["type"] for i in items if i["report_id"] == report_id}
        return {"report_commented", "report_assigned"} <= mine and await inbox_ids(system, citizen)

    inbox = await poll(commented)
    missed = [i for i in inbox if i > seen["id"]]
    assert missed, "nothing happened while disconnected"
    async with stream(system, citizen, last_event_id=seen["id"]) as resumed:
        assert resumed.position == seen["id"]
        replayed = [(await resumed.notification())["id"] for _ in missed]
        assert replayed == missed  # in order, none lost, the one already seen not sent again
        with pytest.raises(TimeoutError):  # and nothing more
            await resumed.notification(timeout=2.0)


async def test_a_new_stream_starts_after_the_latest_item_and_sends_heartbeats(system):
    citizen = await system.token(CITIZEN)
    async with stream(system, citizen) as live:
        assert live.position == (await inbox_ids(system, citizen))[-1]
        started = time.monotonic()
        block = await live.next(timeout=30.0)  # quiet inbox: the first thing to come is a heartbeat
        assert block == {"comment": "ping"}, block
        assert time.monotonic() - started < 25.0


async def test_a_stream_that_saw_nothing_still_resumes_from_where_it_started(system):
    """EventSource sends Last-Event-ID only once it has an id: the stream gives one in its first block."""
    resident = bearer(await signed_up(system, "0909111222", "+84909111222"))
    async with stream(system, resident) as quiet:
        start = quiet.position
    assert start == "00000000-0000-0000-0000-000000000000"  # an empty inbox
    r = await system.http.post("/api/v1/reports", json=await with_photo(system, resident, DUMPING), headers=resident)
    assert r.status_code == 201, r.text

    async def arrived() -> list[str]:
        return await inbox_ids(system, resident)

    inbox = await poll(arrived)
    async with stream(system, resident, last_event_id=start) as resumed:
        assert [(await resumed.notification())["id"] for _ in inbox] == inbox


async def test_a_malformed_last_event_id_is_refused(system):
    citizen = await system.token(CITIZEN)
    r = await system.http.get("/api/v1/events", headers={**citizen, "Last-Event-ID": "zzzz-not-an-id"})
    assert r.status_code == 400 and r.json()["code"] == "validation_error"

"""The load generator's SSE client against a scripted server: the parsing the bench's figures rest on.

A missed or misread block would show up as a "missing" inbox item or a wrong latency, so the
awkward cases are covered here without the platform: blocks split across chunks, CRLF line ends,
comments, multi-line data, a dropped stream resumed with Last-Event-ID, a plain (unchunked) body.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bench.loadgen import _pipeline
from bench.rawhttp import SseStream


class Script:
    """A one-route HTTP server: answers the n-th connection with responses[n] and records its request head."""

    def __init__(self, responses: list[list[bytes]]):
        self.responses, self.requests = responses, []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        self.requests.append(head.decode())
        for piece in self.responses[len(self.requests) - 1]:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(0.01)   # separate reads on the client side
        writer.close()


def chunked(*pieces: str) -> list[bytes]:
    body = [f"{len(p.encode()):x}\r\n".encode() + p.encode() + b"\r\n" for p in pieces]
    return [b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n",
            *body, b"0\r\n\r\n"]


@pytest.fixture
async def serve() -> AsyncIterator:
    servers = []

    async def start(script: Script) -> str:
        server = await asyncio.start_server(script.handle, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_blocks_split_across_chunks_comments_and_resume_with_last_event_id(serve):
    script = Script([
        chunked("retry: 10\nid: a0\n\n", ": ping\n\n", "id: a1\nevent: notif", "ication\r\ndata: {\"n\": 1}\r\n\r\n",
                "id: a2\nevent: notification\ndata: line one\ndata:line two\n\n"),
        chunked("id: a3\nevent: notification\ndata: {}\n\n"),
    ])
    stream = SseStream(await serve(script), "/api/v1/events", {"Authorization": "Bearer t"})
    await stream.open()
    first = await stream.next_event()
    assert (first.event, first.data, first.id) == ("message", "", "a0") and stream.retry_s == 0.01
    one, two = await stream.next_event(), await stream.next_event()
    assert (one.event, one.data, one.id) == ("notification", '{"n": 1}', "a1")
    assert (two.data, two.id) == ("line one\nline two", "a2")
    assert first.at <= one.at <= two.at
    with pytest.raises(asyncio.IncompleteReadError):
        await stream.next_event()
    await stream.open()
    assert (await stream.next_event()).id == "a3"
    await stream.close()
    assert "Authorization: Bearer t" in script.requests[0] and "Last-Event-ID" not in script.requests[0]
    assert "Last-Event-ID: a2\r\n" in script.requests[1]


async def test_plain_body_read_until_the_server_closes(serve):
    script = Script([[b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
                      b"id: b0\n\nevent: notification\nda", b"ta: x\n\n"]])
    stream = SseStream(await serve(script), "/events", {})
    await stream.open()
    assert (await stream.next_event()).id == "b0"
    assert (await stream.next_event()).data == "x"
    with pytest.raises(asyncio.IncompleteReadError):
        await stream.next_event()
    await stream.close()


async def test_an_error_status_is_refused(serve):
    script = Script([[b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n"]])
    stream = SseStream(await serve(script), "/events", {})
    with pytest.raises(ValueError, match="401"):
        await stream.open()
    await stream.close()


class FakeGateway:
    """POST /api/v1/reports makes two inbox items; GET /api/v1/events streams them, dropping the first stream early."""

    def __init__(self, drop_after: int):
        self.items: list[str] = []
        self.added = asyncio.Event()
        self.drop_after, self.streams, self.resumed_from = drop_after, 0, []
        self.stopped = False

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while not (head := (await reader.readuntil(b"\r\n\r\n")).decode()).startswith("GET"):
                await reader.readexactly(int(head.lower().split("content-length: ")[1].split("\r\n")[0]))
                report = f"r{len(self.items) // 2}"
                self.items += [f'{{"type": "report_submitted", "report_id": "{report}"}}',
                               f'{{"type": "report_assigned", "report_id": "{report}"}}']
                self.added.set()
                body = f'{{"id": "{report}"}}'.encode()
                writer.write(b"HTTP/1.1 201 Created\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
        except asyncio.IncompleteReadError:   # the client closed a keep-alive connection
            writer.close()
            return
        await self.stream(head, writer)

    async def stream(self, head: str, writer: asyncio.StreamWriter) -> None:
        self.streams += 1
        resume = [line.split(": ")[1] for line in head.split("\r\n") if line.startswith("Last-Event-ID")]
        self.resumed_from += resume
        pos = int(resume[0]) if resume else len(self.items)

        def chunk(text: str) -> bytes:
            return f"{len(text):x}\r\n{text}\r\n".encode()

        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunk(f"retry: 10\nid: {pos}\n\n"))
        limit = self.drop_after if self.streams == 1 else None
        while not self.stopped:
            while pos < len(self.items) and pos != limit:
                pos += 1
                writer.write(chunk(f"id: {pos}\nevent: notification\ndata: {self.items[pos - 1]}\n\n"))
            if pos == limit:
                break
            self.added.clear()
            await self.added.wait()
        writer.close()

    def stop(self) -> None:
        """End the open streams (the client has gone)."""
        self.stopped = True
        self.added.set()


async def test_pipeline_watcher_sees_every_item_across_a_dropped_stream():
    gateway = FakeGateway(drop_after=3)
    server = await asyncio.start_server(gateway.handle, "127.0.0.1", 0)
    try:
        res = await _pipeline({"base_url": f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", "headers": {},
                               "body": {"description": "{n}"}, "rate": 50, "duration_s": 0.4, "max_in_flight": 4,
                               "poll_interval_s": 0.05, "drain_timeout_s": 5})
    finally:
        gateway.stop()
        server.close()
        await server.wait_closed()
    assert res["submitted"] == 20 and res["watch"] == "sse" and "polls" not in res
    assert all(res["inbox"][kind]["missing"] == 0 for kind in ("report_submitted", "report_assigned"))
    assert res["sse"] == {"events": 40, "reconnects": 1, "errors": 1}
    assert gateway.resumed_from == ["3"]

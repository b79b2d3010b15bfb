"""Minimal HTTP/1.1 clients on asyncio streams for the load generator.

httpx spends ~2-3 ms of CPU per request with 64 pooled connections, so on a 2-core machine it,
not the server, would set the baseline; these do the same exchanges for a fraction of that.
Enough HTTP for the gateway and uvicorn: Content-Length or chunked bodies, Connection: close,
and Server-Sent Events read as they arrive.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass


def _address(base_url: str) -> tuple[str, int, str]:
    """(host, port, "host:port") of an http://host:port base URL."""
    hostport = base_url.split("://", 1)[1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    return host, int(port), hostport


def _request_head(method: str, path: str, hostport: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {hostport}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, int, bool, bool]:
    """(status, content length, chunked, connection close) of a response's status line and headers."""
    status_line = await reader.readline()
    if not status_line:
        raise asyncio.IncompleteReadError(b"", None)
    status = int(status_line.split()[1])
    length, chunked, close = 0, False, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            return status, length, chunked, close
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            close = True


async def _read_chunk(reader: asyncio.StreamReader) -> bytes:
    """The next chunk of a chunked body; b"" for the last one."""
    size = int((await reader.readline()).split(b";")[0], 16)
    return (await reader.readexactly(size + 2))[:size]


async def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


class RawConnection:
    """A keep-alive connection, one request at a time; opened on first use and after a close."""

    def __init__(self, base_url: str):
        self.host, self.port, self.hostport = _address(base_url)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        await _close(self.writer)
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: dict | None, headers: dict[str, str]) -> int:
        """Send one request; its status (the body is read and dropped)."""
        return (await self.exchange(method, path, body, headers))[0]

    async def exchange(self, method: str, path: str, body: dict | None,
                       headers: dict[str, str]) -> tuple[int, bytes]:
        """Send one request; (status, body)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        payload = json.dumps(body, ensure_ascii=False).encode() if body is not None else b""
        headers = {"Accept": "application/json", **headers}
        if body is not None:
            headers.update({"Content-Type": "application/json", "Content-Length": str(len(payload))})
        self.writer.write(_request_head(method, path, self.hostport, headers) + payload)
        reader = self.reader
        status, length, chunked, close = await _read_head(reader)
        data = b""
        if chunked:
            parts = []
            while part := await _read_chunk(reader):
                parts.append(part)
            data = b"".join(parts)
        elif length:
            data = await reader.readexactly(length)
        if close:
            await self.close()
        return status, data


class RawPool:
    """Up to `size` RawConnections shared by concurrent tasks (each request takes one for itself)."""

    def __init__(self, base_url: str, size: int, timeout: float = 30.0):
        self.all = [RawConnection(base_url) for _ in range(size)]
        self.idle: asyncio.Queue[RawConnection] = asyncio.Queue()
        for conn in self.all:
            self.idle.put_nowait(conn)
        self.timeout = timeout

    async def exchange(self, method: str, path: str, body: dict | None,
                       headers: dict[str, str]) -> tuple[int, bytes]:
        """(status, body) over a free connection; a failed or timed-out one is closed (reopened on next use)."""
        conn = await self.idle.get()
        try:
            return await asyncio.wait_for(conn.exchange(method, path, body, headers), self.timeout)
        except BaseException:
            await conn.close()
            raise
        finally:
            self.idle.put_nowait(conn)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.all))


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched SSE block: its `event` ("message" if none), `data` lines joined, the stream's last id,
    and `at`, the wall time (time.time()) its last bytes were read off the socket."""

    event: str
    data: str
    id: str | None
    at: float


class SseStream:
    """A Server-Sent-Events client: one long-lived GET on its own connection, parsed as the bytes arrive.

    The body of an event stream never ends, so unlike RawConnection it is read piecewise (chunked,
    or plain until the server closes). Fields `event`, `data`, `id`, `retry`; `:` comments; LF or
    CRLF line ends. A block without `data` (the gateway's opening `id:` block) is returned too, as
    the sign that the stream is live. `last_id` outlives a connection, so `open()` after a drop
    resumes with Last-Event-ID; `retry_s` is the server's reconnection delay.
    """

    def __init__(self, base_url: str, path: str, headers: dict[str, str], idle_timeout: float = 60.0):
        self.host, self.port, self.hostport = _address(base_url)
        self.path, self.headers, self.idle_timeout = path, headers, idle_timeout
        self.last_id: str | None = None
        self.retry_s = 3.0
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._chunked = False
        self._buf = b""
        self._read_at = 0.0

    async def open(self) -> None:
        """(Re)connect and read the response head; ValueError unless the server answers 200."""
        await self.close()
        async with asyncio.timeout(self.idle_timeout):
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            headers = {**self.headers, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if self.last_id:
                headers["Last-Event-ID"] = self.last_id
            self.writer.write(_request_head("GET", self.path, self.hostport, headers))
            status, _, self._chunked, _ = await _read_head(self.reader)
        if status != 200:
            raise ValueError(f"{self.path}: HTTP {status}")
        self._buf = b""

    async def close(self) -> None:
        await _close(self.writer)
        self.reader = self.writer = None

    async def next_event(self) -> SseEvent:
        """The next block that has a field (comment-only blocks, the heartbeats, are skipped).

        IncompleteReadError when the server ends the stream; TimeoutError after idle_timeout of silence.
        """
        event, data, fields = "", [], False
        while True:
            line = await self._line()
            if not line:
                if fields:
                    return SseEvent(event or "message", "\n".join(data), self.last_id, self._read_at)
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            fields = True
            if name == "data":
                data.append(value)
            elif name == "event":
                event = value
            elif name == "id" and "\0" not in value:
                self.last_id = value
            elif name == "retry" and value.isdigit():
                self.retry_s = int(value) / 1000

    async def _line(self) -> str:
        while (end := self._buf.find(b"\n")) < 0:
            self._buf += await self._read()
        line, self._buf = self._buf[:end], self._buf[end + 1:]
        return line.removesuffix(b"\r").decode()

    async def _read(self) -> bytes:
        """The next piece of the body as it comes off the socket (and when: `_read_at`)."""
        async with asyncio.timeout(self.idle_timeout):
            if self._chunked:
                data = await _read_chunk(self.reader)
                if not data:
                    raise asyncio.IncompleteReadError(b"", None)
            else:
                data = await self.reader.read(65536)
                if not data:
                    raise asyncio.IncompleteReadError(b"", None)
        self._read_at = time.time()
        return data

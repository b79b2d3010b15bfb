"""SMS provider adapters. Contract: `async send(phone_e164, text) -> provider_message_id`, raising
PermanentSendError (4xx other than 429) or TemporarySendError (5xx, 429, timeouts, refused)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import httpx

from services.notify.domain.delivery import PermanentSendError, TemporarySendError
from servicekit.events import new_id


class SmsProvider(Protocol):
    """Sends one SMS; raises on failure."""

    async def send(self, phone: str, text: str) -> str: ...


class FileSmsProvider:
    """Development provider: appends each message as a JSON line to a file people can read."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = asyncio.Lock()

    async def send(self, phone: str, text: str) -> str:
        """Append {id, at, to, text} to the file."""
        message_id = new_id()
        line = json.dumps({"id": message_id, "at": datetime.now(UTC).isoformat(), "to": phone, "text": text},
                          ensure_ascii=False)
        async with self._lock:
            await asyncio.to_thread(self._append, line)
        return message_id

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class HttpSmsProvider:
    """A generic HTTP SMS gateway: POST {"to", "text", "sender"} JSON with a bearer token; the
    answer's JSON "id" (or "message_id") is the provider reference."""

    def __init__(self, url: str, *, token: str = "", sender: str = "CONGDANSO", timeout: float = 10.0,
                 client: httpx.AsyncClient | None = None):
        self.url, self.sender = url, sender
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = client or httpx.AsyncClient(timeout=timeout, headers=headers, trust_env=False)

    async def send(self, phone: str, text: str) -> str:
        """POST the message; classify the outcome."""
        try:
            r = await self.client.post(self.url, json={"to": phone, "text": text, "sender": self.sender})
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise TemporarySendError(f"sms provider unreachable: {type(exc).__name__}") from exc
        if r.status_code == 429 or r.status_code >= 500:
            raise TemporarySendError(f"sms provider http {r.status_code}")
        if r.status_code >= 400:
            raise PermanentSendError(f"sms provider http {r.status_code}")
        try:
            answer = r.json()
        except ValueError:
            answer = {}
        return str(answer.get("id") or answer.get("message_id") or "") if isinstance(answer, dict) else ""

    async def close(self) -> None:
        """Close the HTTP client."""
        await self.client.aclose()

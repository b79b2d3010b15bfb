"""SMS provider adapters. Contract: `async send(phone_e164, text) -> provider_message_id`."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

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

"""Email adapters. Contract: `async send(to, subject, body) -> provider_message_id`, raising
PermanentSendError (refused recipient, 5xx) or TemporarySendError (4xx, connection, timeout)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol

import aiosmtplib

from services.notify.domain.delivery import PermanentSendError, TemporarySendError
from servicekit.events import new_id


class EmailSender(Protocol):
    """Sends one plain-text email."""

    async def send(self, to: str, subject: str, body: str) -> str: ...


class SmtpEmailSender:
    """Email over SMTP with aiosmtplib (STARTTLS/TLS and login when configured)."""

    def __init__(self, *, host: str, port: int, sender: str, username: str = "", password: str = "",
                 starttls: bool = False, use_tls: bool = False, timeout: float = 15.0):
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username or None, password or None
        self.starttls, self.use_tls, self.timeout = starttls, use_tls, timeout

    async def send(self, to: str, subject: str, body: str) -> str:
        """Build a UTF-8 message and hand it to the SMTP server."""
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = self.sender, to, subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg.set_content(body)
        try:
            await aiosmtplib.send(msg, hostname=self.host, port=self.port, username=self.username,
                                  password=self.password, start_tls=self.starttls, use_tls=self.use_tls,
                                  timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentSendError(f"smtp recipient refused: {exc}") from exc
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600:
                raise PermanentSendError(f"smtp {exc.code}") from exc
            raise TemporarySendError(f"smtp {exc.code}") from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise TemporarySendError(f"smtp unavailable: {type(exc).__name__}") from exc
        return msg["Message-ID"]


class FileEmailSender:
    """Development sender: appends each email as a JSON line to a file (no SMTP server in dev)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = asyncio.Lock()

    async def send(self, to: str, subject: str, body: str) -> str:
        """Append {id, at, to, subject, body}."""
        message_id = new_id()
        line = json.dumps({"id": message_id, "at": datetime.now(UTC).isoformat(), "to": to, "subject": subject,
                           "body": body}, ensure_ascii=False)
        async with self._lock:
            await asyncio.to_thread(self._append, line)
        return message_id

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")

"""Push adapter contract (no provider is reachable here).

Contract: `async send(user_id, title, body, data) -> provider_message_id`.
- The provider addresses a person by our user id (device tokens live with the provider, e.g. FCM
  topics / OneSignal external ids), so notify never stores device tokens.
- Raise PermanentSendError when the person has no device registered (the delivery ends
  `permanent-failure`), TemporarySendError on 5xx/429/timeouts (retried with back-off).
- `data` carries {notification_id, type, report_id} for deep links; no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from services.notify.domain.delivery import PermanentSendError
from servicekit.events import new_id


class PushSender(Protocol):
    """Sends one push message to every device of a person."""

    async def send(self, user_id: str, title: str, body: str, data: dict[str, str]) -> str: ...


@dataclass
class FakePushSender:
    """Keeps pushes in memory (development and tests); `devices` limits who can receive."""

    devices: set[str] | None = None
    sent: list[dict] = field(default_factory=list)

    async def send(self, user_id: str, title: str, body: str, data: dict[str, str]) -> str:
        """Record the push; PermanentSendError when the person has no device."""
        if self.devices is not None and user_id not in self.devices:
            raise PermanentSendError("no device registered")
        message_id = new_id()
        self.sent.append({"id": message_id, "user_id": user_id, "title": title, "body": body, "data": data})
        return message_id

"""The event envelope: a protobuf payload plus the headers DESIGN.md §4 fixes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from google.protobuf.message import Message
from uuid6 import uuid7

HDR_ID = "Nats-Msg-Id"
HDR_TYPE = "Cds-Event-Type"
HDR_AT = "Cds-Occurred-At"


def new_id() -> str:
    """A time-ordered UUIDv7 string."""
    return str(uuid7())


def event_name(message: Message) -> str:
    """ReportSubmitted -> report_submitted."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(message).__name__).lower()


@dataclass(frozen=True)
class Event:
    """An event a producer emits: subject `<svc>.v1.<name>` and the serialized protobuf."""

    subject: str
    payload: bytes
    event_type: str
    id: str = field(default_factory=new_id)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    trace: dict[str, str] | None = None   # W3C headers of the span it was emitted in (None: the commit's)

    @classmethod
    def of(cls, service: str, message: Message, *, trace: dict[str, str] | None = None) -> Event:
        """Wrap a protobuf event message of `service`."""
        name = event_name(message)
        return cls(
            subject=f"{service}.v1.{name}",
            payload=message.SerializeToString(),
            event_type=message.DESCRIPTOR.full_name,
            trace=trace,
        )


@dataclass(frozen=True)
class ReceivedEvent:
    """An event as a consumer sees it."""

    id: str
    subject: str
    event_type: str
    payload: bytes
    headers: dict[str, str]
    delivery: int = 1

    def parse(self, message_cls: type[Message]) -> Message:
        """Decode the payload as `message_cls`."""
        msg = message_cls()
        msg.ParseFromString(self.payload)
        return msg

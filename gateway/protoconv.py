"""Proto <-> JSON pieces every route uses: enums as lowercase words, RFC 3339 UTC times, texts."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message
from pydantic import BaseModel, Field

from congdanso.common.v1 import common_pb2


class LocalizedText(BaseModel):
    """A name in Vietnamese and English."""

    vi: str = Field(examples=["Ổ gà, hư hỏng mặt đường"])
    en: str = Field(examples=["Pothole or damaged road surface"])


def text(msg: common_pb2.LocalizedText) -> LocalizedText:
    """LocalizedText proto -> JSON model."""
    return LocalizedText(vi=msg.vi, en=msg.en)


def enum_out(enum_type, prefix: str, value: int) -> str:  # noqa: ANN001 - a generated EnumTypeWrapper
    """REPORT_KIND_INCIDENT -> "incident"; UNSPECIFIED -> "unspecified"."""
    return enum_type.Name(value).removeprefix(prefix).lower()


def enum_in(enum_type, prefix: str, name: str) -> int:  # noqa: ANN001
    """"incident" -> REPORT_KIND_INCIDENT (names are validated at the edge before this)."""
    return enum_type.Value(prefix + name.upper())


def time_or_none(msg: Message, field: str) -> datetime | None:
    """A Timestamp field as an aware UTC datetime, None when unset."""
    if not msg.HasField(field):
        return None
    return getattr(msg, field).ToDatetime(tzinfo=UTC)


def time_of(msg: Message, field: str) -> datetime:
    """A Timestamp field that is always set (the epoch if a service left it out)."""
    return getattr(msg, field).ToDatetime(tzinfo=UTC)


def next_cursor(page: common_pb2.PageResponse) -> str | None:
    """The cursor of the next page, None on the last page."""
    return page.next_cursor or None

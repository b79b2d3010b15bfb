"""Protobuf well-known-type helpers shared by servicers and the gateway."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(value: datetime | None) -> Timestamp | None:
    """A protobuf Timestamp (None stays unset); naive values are taken as UTC (SQLite returns them)."""
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    return out

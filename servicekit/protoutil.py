"""Protobuf well-known-type helpers shared by servicers and the gateway."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: datetime | None) -> Timestamp | None:
    """A protobuf Timestamp (None stays unset); naive values are taken as UTC (SQLite returns them).

    What `Timestamp.FromDatetime` gives, by date arithmetic: it went through `utctimetuple` and
    `calendar.timegm` in Python, a tenth of a millisecond per feed item (four timestamps each)."""
    if value is None:
        return None
    delta = (value if value.tzinfo else value.replace(tzinfo=UTC)) - _EPOCH
    return Timestamp(seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000)

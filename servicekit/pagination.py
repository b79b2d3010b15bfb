"""Opaque keyset cursors and limit checks shared by list RPCs."""

from __future__ import annotations

import base64
import json

from servicekit.errors import InvalidArgument


def encode_cursor(position: dict) -> str:
    """An opaque, URL-safe cursor for a keyset position."""
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict:
    """The position inside a cursor; INVALID_ARGUMENT when it was not made by encode_cursor."""
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument("bad cursor", code="invalid_cursor", field="cursor") from exc
    if not isinstance(position, dict):
        raise InvalidArgument("bad cursor", code="invalid_cursor", field="cursor")
    return position


def page_limit(requested: int, *, default: int = 20, maximum: int = 100) -> int:
    """The page size: default when 0, INVALID_ARGUMENT outside 1..maximum."""
    limit = requested or default
    if not 1 <= limit <= maximum:
        raise InvalidArgument(f"limit must be 1 to {maximum}", code="invalid_limit", field="limit")
    return limit

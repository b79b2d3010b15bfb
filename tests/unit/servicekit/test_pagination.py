"""Keyset cursors and limits."""

import pytest


def test_cursor_round_trip_and_garbage_is_invalid_argument():
    from servicekit.errors import InvalidArgument
    from servicekit.pagination import decode_cursor, encode_cursor, page_limit

    position = {"id": "01a2", "due": "2026-12-01T10:00:00+00:00"}
    assert decode_cursor(encode_cursor(position)) == position
    for garbage in ("%%%", "bm90IGpzb24", encode_cursor([1, 2])):  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument):
            decode_cursor(garbage)
    assert page_limit(0) == 20 and page_limit(100) == 100
    with pytest.raises(InvalidArgument):
        page_limit(101)

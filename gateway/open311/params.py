"""Parsing Open311 query strings and form bodies; a bad value raises INVALID_ARGUMENT (Open311 400)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from pydantic import BaseModel

from gateway.open311.convert import CITY_TZ, CLOSED_STATES, OPEN_STATES
from servicekit.errors import InvalidArgument

DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_OFFSET = 10_000
ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_.-]{1,64})\](\[\])?$")
CODE = re.compile(r"^[a-z0-9_]{1,64}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def bad(message: str, field: str) -> InvalidArgument:
    """The 400 every malformed parameter gets."""
    return InvalidArgument(message, code="open311_bad_parameter", field=field)


def form(body: bytes) -> dict[str, list[str]]:
    """An application/x-www-form-urlencoded body (parsed by hand: python-multipart is not a dependency)."""
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise bad("the body must be UTF-8 form data", "body") from exc


def one(values: dict[str, list[str]], name: str) -> str:
    """The (last) value of a form field, stripped; "" when absent."""
    return (values.get(name) or [""])[-1].strip()


def when(value: str, field: str) -> datetime | None:
    """A W3C datetime (a date alone means midnight, no offset means city time); None when empty."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "+"))  # a '+' in a query string arrives as a space
    except ValueError as exc:
        raise bad(f"{field} must be a W3C datetime such as 2026-11-01T00:00:00+07:00", field) from exc
    if not 1970 <= parsed.year <= 9000:  # keeps the 90-day default window and Timestamps in range
        raise bad(f"{field} must be between 1970 and 9000", field)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CITY_TZ)


def codes(value: str, field: str, pattern: re.Pattern[str] = CODE, most: int = 50) -> list[str]:
    """A comma-separated list of codes or ids."""
    items = [v.strip() for v in value.split(",") if v.strip()]
    if len(items) > most or any(not pattern.match(v) for v in items):
        raise bad(f"{field} must be a comma-separated list of at most {most} codes", field)
    return items


def statuses(value: str) -> list[str]:
    """status=open|closed (comma-separated) -> our detailed states."""
    out: list[str] = []
    for item in codes(value, "status", most=2):
        if item not in ("open", "closed"):
            raise bad("status must be open or closed", "status")
        out.extend(OPEN_STATES if item == "open" else CLOSED_STATES)
    return out


def positive(value: str, field: str, default: int, most: int) -> int:
    """An integer 1..most, default when empty."""
    if not value:
        return default
    if not value.isdigit() or not 1 <= int(value) <= most:
        raise bad(f"{field} must be an integer from 1 to {most}", field)
    return int(value)


class Window(BaseModel):
    """start_date/end_date resolved: the default window is the 90 days before end_date (or now)."""

    start: datetime
    end: datetime | None


def window(start_date: str, end_date: str) -> Window:
    """Resolve and check a start/end pair."""
    start, end = when(start_date, "start_date"), when(end_date, "end_date")
    if start and end and start > end:
        raise bad("start_date must not be after end_date", "start_date")
    return Window(start=start or (end or datetime.now(UTC)) - DEFAULT_WINDOW, end=end)


def bbox(value: str) -> tuple[float, float, float, float] | None:
    """bbox=min_long,min_lat,max_long,max_lat (west,south,east,north) -> (min_lat, min_lon, max_lat, max_lon)."""
    if not value:
        return None
    try:
        west, south, east, north = (float(v) for v in value.split(","))
    except ValueError as exc:
        raise bad("bbox must be min_long,min_lat,max_long,max_lat", "bbox") from exc
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise bad("bbox must be min_long,min_lat,max_long,max_lat with min <= max", "bbox")
    return south, west, north, east


def coordinate(value: str, field: str, limit: float) -> float | None:
    """lat or long, None when empty."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise bad(f"{field} must be a number", field) from exc
    if not -limit <= number <= limit:
        raise bad(f"{field} must be between -{limit:g} and {limit:g}", field)
    return number


def attributes(values: dict[str, list[str]]) -> dict[str, str]:
    """attribute[code]=v and attribute[code][]=v1&attribute[code][]=v2 -> {code: "v" | "v1,v2"}."""
    out: dict[str, list[str]] = {}
    for name, items in values.items():
        if match := ATTRIBUTE.match(name):
            out.setdefault(match.group(1), []).extend(v.strip() for v in items if v.strip())
        elif name.startswith("attribute"):
            raise bad(f"{name} is not attribute[code] or attribute[code][]", name)
    return {code: ",".join(items) for code, items in out.items() if items}

"""NATS connection and JetStream stream provisioning (one stream per producer, DESIGN.md §4)."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.js.api import StreamConfig, StorageType
from nats.js.errors import BadRequestError

log = logging.getLogger(__name__)

STREAMS: dict[str, list[str]] = {
    "IDENTITY": ["identity.>"],
    "REPORTS": ["reports.>"],
    "ROUTING": ["routing.>"],
    "NOTIFY": ["notify.>"],
}
DUPLICATE_WINDOW_S = 120.0
MAX_AGE_S = 30 * 24 * 3600.0


async def connect(url: str, *, name: str, attempts: int = 60) -> nats.NATS:
    """Connect (retrying the first connection) with unlimited reconnects afterwards."""
    for attempt in range(1, attempts + 1):
        try:
            return await nats.connect(
                servers=[u.strip() for u in url.split(",")], name=name,
                max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=2,
                allow_reconnect=True,
            )
        except Exception as exc:  # noqa: BLE001 - nats raises several types for "not there yet"
            if attempt == attempts:
                raise
            log.warning("nats not reachable yet", extra={"attempt": attempt, "error": type(exc).__name__})
            await asyncio.sleep(min(0.2 * attempt, 2.0))
    raise RuntimeError("unreachable")


def stream_config(name: str, *, replicas: int = 1) -> StreamConfig:
    """The configuration of one of the platform's streams."""
    return StreamConfig(
        name=name, subjects=STREAMS[name], storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S, max_age=MAX_AGE_S, num_replicas=replicas,
    )


async def ensure_stream(js, name: str) -> None:  # noqa: ANN001
    """Create the stream, or bring an existing one to the expected configuration."""
    config = stream_config(name)
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


async def ensure_streams(js, names: list[str] | None = None) -> None:  # noqa: ANN001
    """Provision the given streams (all by default)."""
    for name in names or list(STREAMS):
        await ensure_stream(js, name)

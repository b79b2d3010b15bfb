"""The SLA scheduler loop: polls the clock table and fires due warnings and escalations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from services.routing.service_layer.clocks import fire_due
from services.routing.service_layer.handlers import utcnow

log = logging.getLogger(__name__)


class SlaScheduler:
    """Durable: all state is in `sla_clocks`, so a restart resumes exactly where the last commit left off."""

    def __init__(self, uow_factory: Callable[[], object], *, poll_interval: float = 5.0, batch: int = 100,
                 now: Callable[[], datetime] = utcnow, stop: asyncio.Event | None = None):
        self.uow_factory, self.poll_interval, self.batch, self.now = uow_factory, poll_interval, batch, now
        self.stop_event = stop or asyncio.Event()
        self.emitted = 0

    async def tick(self) -> int:
        """Fire everything due now, batch after batch; returns how many events were emitted."""
        total = 0
        while True:
            emitted = await fire_due(self.uow_factory(), self.now(), self.batch)
            total += emitted
            if emitted < self.batch:
                break
        self.emitted += total
        return total

    async def run(self) -> None:
        """Tick every poll interval until stopped; database trouble is logged and retried."""
        while not self.stop_event.is_set():
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - DB busy or away: the rows wait for the next tick
                log.warning("sla scheduler tick failed", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            try:
                await asyncio.wait_for(self.stop_event.wait(), self.poll_interval)
            except TimeoutError:
                pass

    def stop(self) -> None:
        """Finish after the current tick."""
        self.stop_event.set()

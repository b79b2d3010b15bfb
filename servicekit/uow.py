"""Unit of work: one transaction; events emitted during it go to the outbox in the same commit."""

from __future__ import annotations

from collections.abc import Callable

from google.protobuf.message import Message
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.events import Event
from servicekit.outbox import write_outbox


class UnitOfWork:
    """Base unit of work; services subclass it to attach their repositories in `_start`."""

    service = ""

    def __init__(self, sessions: async_sessionmaker, outbox: Table,
                 on_commit: Callable[[], None] | None = None):
        self._sessions, self._outbox, self._on_commit = sessions, outbox, on_commit
        self.session: AsyncSession
        self.events: list[Event] = []

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.events = []
        self._start()
        return self

    def _start(self) -> None:
        """Hook for subclasses: build repositories on self.session."""

    async def __aexit__(self, *exc) -> None:
        # close() rolls back whatever was not committed without expiring loaded objects, so
        # callers can still read what a handler returned.
        await self.session.close()

    def emit(self, message: Message) -> Event:
        """Queue a protobuf event of this service for the outbox."""
        event = Event.of(self.service, message)
        self.events.append(event)
        return event

    async def commit(self) -> None:
        """Write queued events to the outbox and commit everything at once."""
        await self.session.flush()
        await write_outbox(self.session, self._outbox, self.events)
        await self.session.commit()
        self.events = []
        if self._on_commit:
            self._on_commit()

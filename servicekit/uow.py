"""Unit of work: one transaction; events emitted during it go to the outbox in the same commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from google.protobuf.message import Message
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.db import READ_ONLY, WRITE, writer
from servicekit.events import Event
from servicekit.outbox import write_outbox
from servicekit.telemetry import inject_headers


class UnitOfWork:
    """Base unit of work; services subclass it to attach their repositories in `_start`.

    A writing unit of work holds the process's write turn on SQLite from enter to exit (see
    servicekit.db.writer), so keep it short and free of network calls; never open a writing unit
    of work inside another one (it would wait for itself). `read_only=True` takes no turn and
    cannot commit: use it for queries.
    """

    service = ""

    def __init__(self, sessions: async_sessionmaker, outbox: Table,
                 on_commit: Callable[[], None] | None = None, *, read_only: bool = False):
        self._sessions, self._outbox, self._on_commit = sessions, outbox, on_commit
        self.read_only = read_only
        self.session: AsyncSession
        self.events: list[Event] = []
        self._turn = None

    async def __aenter__(self) -> UnitOfWork:
        # Yield to the event loop once per transaction: on SQLite statements run inline and never
        # suspend, so a loop of units of work (auto-close, a consumer's backlog) would otherwise
        # keep every request waiting until it ran out of work.
        await asyncio.sleep(0)
        if self.read_only:
            self.session = self._sessions(execution_options={READ_ONLY: True})
        else:
            self._turn = writer(self._sessions.kw["bind"])
            await self._turn.__aenter__()
            self.session = self._sessions(execution_options={WRITE: True})
        self.events = []
        try:
            self._start()
        except BaseException:
            await self.__aexit__()   # give the write turn back, or every later writer would wait forever
            raise
        return self

    def _start(self) -> None:
        """Hook for subclasses: build repositories on self.session."""

    async def __aexit__(self, *exc) -> None:
        # close() rolls back whatever was not committed without expiring loaded objects, so
        # callers can still read what a handler returned.
        try:
            await self.session.close()
        finally:
            if self._turn is not None:
                turn, self._turn = self._turn, None
                await turn.__aexit__(None, None, None)

    def emit(self, message: Message) -> Event:
        """Queue a protobuf event of this service for the outbox, in the current trace context (a
        consumer handling a batch emits each event inside the span of the event that caused it)."""
        event = Event.of(self.service, message, trace=inject_headers())
        self.events.append(event)
        return event

    async def commit(self) -> None:
        """Write queued events to the outbox and commit everything at once."""
        if self.read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        await self.session.flush()
        await write_outbox(self.session, self._outbox, self.events)
        await self.session.commit()
        self.events = []
        if self._on_commit:
            self._on_commit()

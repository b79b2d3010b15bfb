"""Notify unit of work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from servicekit.uow import UnitOfWork


class NotifyUnitOfWork(UnitOfWork):
    """Transactions of the notify service; events go to its outbox. `wake` is called after a commit
    with the people whose inbox got items (adapters.wakeups: their live streams check at once)."""

    service = "notify"

    def __init__(self, *args, wake: Callable[[set[str]], Awaitable[None]] | None = None, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._wake = wake
        self.inbox_users: set[str] = set()

    def note_inbox(self, user_ids: Iterable[str]) -> None:
        """Record that these people's inboxes get items in this transaction."""
        self.inbox_users.update(user_ids)

    async def commit(self) -> None:
        """Commit, then wake the live streams of the people who got items."""
        await super().commit()
        users, self.inbox_users = self.inbox_users, set()
        if users and self._wake is not None:
            await self._wake(users)


async def core(session: AsyncSession) -> AsyncConnection:
    """The session's connection, for Core statements on the hot paths (consumers, sender, inbox).

    `Session.execute` runs every statement through the ORM layer (compile state, autoflush,
    result wrapping), a large part of notify's CPU per event; Core statements built once at
    module level and executed here skip it. Pending ORM changes are flushed first, as the
    session's autoflush would, so these statements see them.
    """
    if session.new or session.dirty or session.deleted:
        await session.flush()
    return await session.connection()

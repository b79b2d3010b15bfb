"""Notify unit of work."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from servicekit.uow import UnitOfWork


class NotifyUnitOfWork(UnitOfWork):
    """Transactions of the notify service; events go to its outbox."""

    service = "notify"


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

"""Notify unit of work."""

from __future__ import annotations

from servicekit.uow import UnitOfWork


class NotifyUnitOfWork(UnitOfWork):
    """Transactions of the notify service; events go to its outbox."""

    service = "notify"

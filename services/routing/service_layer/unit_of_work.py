"""Routing unit of work."""

from __future__ import annotations

from servicekit.uow import UnitOfWork


class RoutingUnitOfWork(UnitOfWork):
    """Transactions of the routing service; events go to its outbox."""

    service = "routing"

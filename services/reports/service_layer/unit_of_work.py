"""Reports unit of work."""

from __future__ import annotations

from servicekit.uow import UnitOfWork


class ReportsUnitOfWork(UnitOfWork):
    """Transactions of the reports service; events go to its outbox."""

    service = "reports"

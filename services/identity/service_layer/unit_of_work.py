"""Identity unit of work."""

from __future__ import annotations

from servicekit.uow import UnitOfWork


class IdentityUnitOfWork(UnitOfWork):
    """Transactions of the identity service; events go to its outbox."""

    service = "identity"

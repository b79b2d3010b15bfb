"""`python -m services.notify [serve|migrate|seed]`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from congdanso.notify.v1 import notify_pb2
from congdanso.notify.v1.notify_pb2_grpc import add_NotifyServiceServicer_to_server
from services.notify.adapters.orm import inbox, outbox
from services.notify.adapters.sms import FileSmsProvider
from services.notify.config import NotifySettings
from services.notify.entrypoints.servicer import NotifyServicer
from services.notify.service_layer import handlers
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork
from servicekit import migrate
from servicekit.auth import grpc_jwks_fetcher
from servicekit.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


async def serve(settings: NotifySettings) -> None:
    """Run the gRPC service and its consumers until SIGTERM."""
    rt = ServiceRuntime("notify", settings, database_url=settings.database_url, listen=settings.grpc_listen,
                        outbox=outbox, inbox=inbox, uow_class=NotifyUnitOfWork)
    server = rt.grpc_server(grpc_jwks_fetcher(settings.identity_grpc_addr))
    await rt.open()
    rt.consume("users", "IDENTITY", ["identity.v1.user_registered"], handlers.project_user)
    rt.consume("report-submitted", "REPORTS", ["reports.v1.report_submitted"], handlers.on_report_submitted)
    rt.consume("report-status", "REPORTS", ["reports.v1.report_status_changed"], handlers.on_status_changed)
    server.add(add_NotifyServiceServicer_to_server, NotifyServicer(rt.uow, FileSmsProvider(settings.sms_outbox)),
               notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name)
    await rt.serve(server)


def main(argv: list[str]) -> None:
    """Dispatch the sub-command (notify has no reference data: seed is a no-op)."""
    settings = NotifySettings()
    command = argv[0] if argv else "serve"
    if command == "migrate":
        migrate.upgrade(MIGRATIONS, settings.database_url)
    elif command == "seed":
        return
    elif command == "serve":
        asyncio.run(serve(settings))
    else:
        raise SystemExit(f"usage: python -m services.notify [serve|migrate|seed], not {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])

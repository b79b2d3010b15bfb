"""`python -m services.reports [serve [--setup]|setup|migrate|seed]` (servicekit.cli)."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

from congdanso.reports.v1 import reports_pb2
from congdanso.reports.v1.reports_pb2_grpc import add_ReportsServiceServicer_to_server
from services.reports.adapters.media_store import build_media_store
from services.reports.adapters.orm import idempotency, inbox, outbox
from services.reports.config import ReportsSettings
from services.reports.entrypoints.servicer import ReportsServicer
from services.reports.service_layer import lifecycle, privacy
from services.reports.service_layer.unit_of_work import ReportsUnitOfWork
from servicekit import cli
from servicekit.auth import grpc_jwks_fetcher
from servicekit.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


async def serve(settings: ReportsSettings) -> None:
    """Run the gRPC service and its consumers until SIGTERM."""
    rt = ServiceRuntime("reports", settings, database_url=settings.database_url, listen=settings.grpc_listen,
                        outbox=outbox, inbox=inbox, uow_class=ReportsUnitOfWork)
    server = rt.grpc_server(grpc_jwks_fetcher(settings.identity_grpc_addr))
    await rt.open()
    rt.consume("assignments", "ROUTING", ["routing.v1.report_assigned"], lifecycle.apply_assignment,
               batch_handler=lifecycle.apply_assignments)
    rt.consume("transfers", "ROUTING", ["routing.v1.report_transferred"], lifecycle.apply_transfer)
    rt.consume("escalations", "ROUTING", ["routing.v1.report_escalated"], lifecycle.apply_escalation)
    rt.consume("erasures", "IDENTITY", ["identity.v1.user_deleted"], privacy.pseudonymise_user)
    rt.background.append(lambda: auto_close_loop(rt.uow, settings.auto_close_interval_s))
    server.add(add_ReportsServiceServicer_to_server, ReportsServicer(rt.uow, build_media_store(settings)),
               reports_pb2.DESCRIPTOR.services_by_name["ReportsService"].full_name)
    server.enable_idempotency(rt.engine, idempotency, methods={
        "/congdanso.reports.v1.ReportsService/AddComment", "/congdanso.reports.v1.ReportsService/UploadMedia"})
    await rt.serve(server)


async def auto_close_loop(uow_factory, interval: float) -> None:  # noqa: ANN001
    """Close resolved reports left unanswered for 7 days; state lives in the database."""
    while True:
        try:
            while await lifecycle.close_expired(uow_factory) > 0:
                pass
        except Exception:  # noqa: BLE001 - log and try again next round
            logging.getLogger(__name__).exception("auto-close round failed")
        await asyncio.sleep(interval)


async def seed(settings: ReportsSettings) -> None:
    """Load wards and starter categories (imported here: serving needs neither them nor vietnam-provinces)."""
    from services.reports.adapters.seed import load_reference_data

    await load_reference_data(settings.database_url)


def main(argv: list[str]) -> None:
    """Dispatch the sub-command (servicekit.cli)."""
    cli.ServiceCli("reports", ReportsSettings, serve, MIGRATIONS, seed=seed).main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])

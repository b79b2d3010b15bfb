"""`python -m services.routing [serve [--setup]|setup|migrate|seed]` (servicekit.cli)."""

from __future__ import annotations

import sys
from pathlib import Path

from congdanso.routing.v1 import routing_pb2
from congdanso.routing.v1.routing_pb2_grpc import add_RoutingServiceServicer_to_server
from services.routing.adapters.orm import idempotency, inbox, outbox
from services.routing.adapters.seed import load_reference_data
from services.routing.config import RoutingSettings
from services.routing.entrypoints.scheduler import SlaScheduler
from services.routing.entrypoints.servicer import RoutingServicer
from services.routing.service_layer import handlers
from services.routing.service_layer.unit_of_work import RoutingUnitOfWork
from servicekit import cli
from servicekit.auth import grpc_jwks_fetcher
from servicekit.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


async def serve(settings: RoutingSettings) -> None:
    """Run the gRPC service, its consumers and the SLA scheduler until SIGTERM."""
    rt = ServiceRuntime("routing", settings, database_url=settings.database_url, listen=settings.grpc_listen,
                        outbox=outbox, inbox=inbox, uow_class=RoutingUnitOfWork)
    server = rt.grpc_server(grpc_jwks_fetcher(settings.identity_grpc_addr))
    await rt.open()
    rt.consume("submissions", "REPORTS", ["reports.v1.report_submitted"], handlers.assign_submitted,
               batch_handler=handlers.assign_submitted_batch)
    rt.consume("status", "REPORTS", ["reports.v1.report_status_changed"], handlers.apply_status_change,
               batch_handler=handlers.apply_status_changes)
    scheduler = SlaScheduler(rt.uow, poll_interval=settings.sla_poll_interval_s, batch=settings.sla_batch,
                             stop=rt.stop_requested)
    rt.background.append(scheduler.run)
    server.add(add_RoutingServiceServicer_to_server, RoutingServicer(rt.uow),
               routing_pb2.DESCRIPTOR.services_by_name["RoutingService"].full_name)
    server.enable_idempotency(rt.engine, idempotency, methods={
        "/congdanso.routing.v1.RoutingService/CreateAgency", "/congdanso.routing.v1.RoutingService/TransferReport"})
    await rt.serve(server)


def main(argv: list[str]) -> None:
    """Dispatch the sub-command (servicekit.cli)."""
    cli.ServiceCli("routing", RoutingSettings, serve, MIGRATIONS,
                   seed=lambda settings: load_reference_data(settings.database_url)).main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])

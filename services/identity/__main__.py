"""`python -m services.identity [serve|migrate|seed]`."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from sqlalchemy import select

from congdanso.identity.v1 import identity_pb2
from congdanso.identity.v1.identity_pb2_grpc import add_IdentityServiceServicer_to_server
from services.identity.adapters import keys
from services.identity.adapters.orm import User, inbox, outbox
from services.identity.config import IdentitySettings
from services.identity.entrypoints.servicer import IdentityServicer
from services.identity.seed_data import DEMO_ACCOUNTS
from services.identity.service_layer import handlers
from services.identity.service_layer.unit_of_work import IdentityUnitOfWork
from servicekit import migrate
from servicekit.db import make_engine, session_factory
from servicekit.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"


async def serve(settings: IdentitySettings) -> None:
    """Run the gRPC service until SIGTERM."""
    rt = ServiceRuntime("identity", settings, database_url=settings.database_url, listen=settings.grpc_listen,
                        outbox=outbox, inbox=inbox, uow_class=IdentityUnitOfWork)

    async def own_jwks() -> str:
        async with rt.uow() as uow:
            return await keys.jwks(uow.session, verify_window_s=2 * settings.access_ttl_s)

    server = rt.grpc_server(own_jwks)
    await rt.open()
    server.add(add_IdentityServiceServicer_to_server, IdentityServicer(rt.uow, settings),
               identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name)
    await rt.serve(server)


async def seed(settings: IdentitySettings) -> None:
    """Create the signing key and the demo accounts (idempotent)."""
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    async with IdentityUnitOfWork(sessions, outbox) as uow:
        await keys.current_key(uow.session)
        await uow.commit()
    for acc in DEMO_ACCOUNTS if settings.demo_accounts else []:
        async with IdentityUnitOfWork(sessions, outbox) as uow:
            if await uow.session.scalar(select(User.id).where(User.phone == acc["phone"])):
                continue
            user = await handlers.register(handlers.Register(**{k: acc[k] for k in (
                "phone", "password", "full_name", "role", "agency_code", "home_ward_code")}), uow)
        async with IdentityUnitOfWork(sessions, outbox) as uow:
            (await uow.session.get(User, user.id)).assurance_level = 1
            await uow.commit()
    await engine.dispose()


def main(argv: list[str]) -> None:
    """Dispatch the sub-command."""
    settings = IdentitySettings()
    command = argv[0] if argv else "serve"
    if command == "migrate":
        migrate.upgrade(MIGRATIONS, settings.database_url)
    elif command == "seed":
        asyncio.run(seed(settings))
    elif command == "serve":
        asyncio.run(serve(settings))
    else:
        raise SystemExit(f"usage: python -m services.identity [serve|migrate|seed], not {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])

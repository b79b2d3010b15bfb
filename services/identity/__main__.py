"""`python -m services.identity [serve [--setup]|setup|migrate|seed|bootstrap-operator PHONE 'FULL NAME'|
import-registry FILE|rotate-key]` (servicekit.cli)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

from sqlalchemy import select

from congdanso.identity.v1 import identity_pb2
from congdanso.identity.v1.identity_pb2_grpc import add_IdentityServiceServicer_to_server
from services.identity.adapters import keys
from services.identity.adapters.orm import User, idempotency, inbox, outbox
from services.identity.adapters.sms import NotifyOtpSender
from services.identity.adapters.verifier import RegistryVerifier
from services.identity.config import IdentitySettings
from services.identity.entrypoints.servicer import IdentityServicer
from services.identity.seed_data import DEMO_ACCOUNTS
from services.identity.service_layer import accounts, verification
from services.identity.service_layer.unit_of_work import IdentityUnitOfWork
from servicekit import cli
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
    servicer = IdentityServicer(rt.uow, settings, sms=NotifyOtpSender(settings.notify_grpc_addr, settings.internal_token),
                                verifier=RegistryVerifier())
    server.add(add_IdentityServiceServicer_to_server, servicer,
               identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name)
    server.enable_idempotency(rt.engine, idempotency, methods={
        "/congdanso.identity.v1.IdentityService/CreateStaff", "/congdanso.identity.v1.IdentityService/CreateClient"})
    await rt.serve(server)


async def _with_uow(settings: IdentitySettings, fn):  # noqa: ANN001, ANN202
    """Run `fn(uow_factory)` against the service's database, then dispose of the engine."""
    engine = make_engine(settings.database_url)
    sessions = session_factory(engine)
    try:
        return await fn(lambda: IdentityUnitOfWork(sessions, outbox))
    finally:
        await engine.dispose()


async def seed(settings: IdentitySettings) -> None:
    """Create the signing key and the demo accounts, phone-verified (idempotent)."""
    async def run(uow_factory) -> None:  # noqa: ANN001
        async with uow_factory() as uow:
            await keys.current_key(uow.session)
            await uow.commit()
        for acc in DEMO_ACCOUNTS if settings.demo_accounts else []:
            async with uow_factory() as uow:
                if await uow.session.scalar(select(User.id).where(User.phone == acc["phone"])):
                    continue
                await accounts.create_account(accounts.Register(**{k: acc[k] for k in (
                    "phone", "password", "full_name", "role", "agency_code", "home_ward_code")}), uow, verified=True)
    await _with_uow(settings, run)


async def bootstrap_operator(settings: IdentitySettings, phone: str, full_name: str, password: str) -> None:
    """Create an operator account (the first one of a deployment)."""
    async def run(uow_factory) -> None:  # noqa: ANN001
        async with uow_factory() as uow:
            user = await accounts.create_account(accounts.Register(
                phone=phone, password=password, full_name=full_name, role="operator"), uow, verified=True)
        print(f"operator created: {user.id}")
    await _with_uow(settings, run)


async def import_registry(settings: IdentitySettings, path: Path) -> int:
    """Import a resident-registry CSV; print per-row errors; exit status 1 when any row failed."""
    async def run(uow_factory) -> int:  # noqa: ANN001
        async with uow_factory() as uow:
            count, errors = await verification.import_registry(uow, path.read_text(encoding="utf-8"))
        for err in errors:
            print(f"{path}:{err.line}: {err.message}", file=sys.stderr)
        print(f"imported {count} row(s), refused {len(errors)}")
        return 1 if errors else 0
    return await _with_uow(settings, run)


async def rotate_key(settings: IdentitySettings) -> None:
    """Retire the signing key in use and create a new one."""
    async def run(uow_factory) -> None:  # noqa: ANN001
        async with uow_factory() as uow:
            new, old = await keys.rotate(uow.session, lead_s=settings.key_publish_lead_s)
            await uow.commit()
        print(f"signing key {new.kid} published, signing from {new.activates_at.isoformat()}; "
              f"{old.kid if old else 'none'} retires then")
    await _with_uow(settings, run)


async def _bootstrap_command(settings: IdentitySettings, phone: str, full_name: str) -> None:
    """bootstrap-operator: the password comes from IDENTITY_BOOTSTRAP_PASSWORD or a prompt."""
    password = os.environ.get("IDENTITY_BOOTSTRAP_PASSWORD") or getpass.getpass("password: ")
    await bootstrap_operator(settings, phone, full_name, password)


def main(argv: list[str]) -> None:
    """Dispatch the sub-command (servicekit.cli)."""
    cli.ServiceCli("identity", IdentitySettings, serve, MIGRATIONS, seed=seed, extras={
        "bootstrap-operator": cli.Extra(_bootstrap_command, ("PHONE", "'FULL NAME'")),
        "import-registry": cli.Extra(lambda settings, file: import_registry(settings, Path(file)), ("FILE",)),
        "rotate-key": cli.Extra(rotate_key)}).main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])

"""Log-in and sign-up hash passwords (tens of ms of argon2) with no database connection held: inside the
writing transaction the hashing held the SQLite write turn, so the process's log-ins queued behind it."""

from __future__ import annotations

from congdanso.identity.v1 import identity_pb2
from services.identity.config import IdentitySettings
from services.identity.entrypoints.servicer import IdentityServicer
from services.identity.service_layer import users
from tests.integration.identity.conftest import PASSWORD


async def test_login_and_sign_up_hash_with_no_connection_checked_out(identity, monkeypatch):
    await identity.signed_up("0901000001")
    pool = identity.engine.sync_engine.pool
    held: list[tuple[str, int]] = []
    real = users.hasher

    class Spy:
        """The real hasher, noting how many connections are checked out when it works."""

        def verify(self, stored: str, password: str) -> bool:
            held.append(("verify", pool.checkedout()))
            return real.verify(stored, password)

        def hash(self, password: str) -> str:
            held.append(("hash", pool.checkedout()))
            return real.hash(password)

    monkeypatch.setattr(users, "hasher", Spy())
    servicer = IdentityServicer(identity.uow, IdentitySettings(), sms=identity.sms, verifier=None)

    tokens = await servicer.Login(identity_pb2.LoginRequest(phone="0901000001", password=PASSWORD,
                                                            client_ip="198.51.100.7"), None)
    assert tokens.access_token
    await servicer.Register(identity_pb2.RegisterRequest(phone="0901000002", password=PASSWORD,
                                                         full_name="Trần Thị Bình", language="vi"), None)
    assert held == [("verify", 0), ("hash", 0)]   # once each, and no connection open meanwhile

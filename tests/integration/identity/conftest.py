"""The identity service layer against a real, migrated database (SQLite, or PostgreSQL with
CDS_TEST_POSTGRES=1). SMS delivery is the only test double: it records what notify would send."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select, text

from services.identity.adapters import keys
from services.identity.adapters.orm import AuditRecord, outbox
from services.identity.service_layer import accounts, sessions
from services.identity.service_layer.unit_of_work import IdentityUnitOfWork
from servicekit import migrate
from servicekit.auth import JwtVerifier, Principal
from servicekit.db import make_engine, session_factory

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "identity" / "migrations"
ISSUER, AUDIENCE = "test-identity", "test-audience"
CFG = sessions.TokenConfig(access_ttl=900, refresh_ttl=3600, issuer=ISSUER, audience=AUDIENCE)
PASSWORD = "mua-sai-gon-2025"


@dataclass
class RecordingSms:
    """Stands in for notify's SendOtp: keeps each message instead of writing the SMS outbox."""

    sent: list[dict] = field(default_factory=list)

    async def send(self, *, phone: str, code: str, language: str, purpose: str) -> None:
        self.sent.append({"phone": phone, "code": code, "language": language, "purpose": purpose})

    def code(self, phone: str, purpose: str) -> str:
        """The newest code sent to `phone` for `purpose`."""
        return [m for m in self.sent if m["phone"] == phone and m["purpose"] == purpose][-1]["code"]


class Identity:
    """Units of work on the database, the SMS recorder and shortcuts for common flows."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.sessions = session_factory(self.engine)
        self.sms = RecordingSms()
        self.verifier = JwtVerifier(self.jwks, issuer=ISSUER, audience=AUDIENCE)

    def uow(self, *, read_only: bool = False) -> IdentityUnitOfWork:
        return IdentityUnitOfWork(self.sessions, outbox, read_only=read_only)

    async def jwks(self) -> str:
        async with self.uow() as uow:
            return await keys.jwks(uow.session, verify_window_s=2 * CFG.access_ttl)

    async def signed_up(self, phone: str = "0901000001", *, name: str = "Nguyễn Văn An",
                        language: str = "vi") -> tuple[Principal, sessions.Tokens]:
        """A resident through register + verify_phone; their principal and first tokens."""
        async with self.uow() as uow:
            user, _ = await accounts.register(accounts.Register(phone=phone, password=PASSWORD, full_name=name,
                                                                language=language), uow, self.sms)
        async with self.uow() as uow:
            tokens = await accounts.verify_phone(uow, CFG, phone=phone, code=self.sms.code(user.phone, "verify_phone"),
                                                 client_ip="198.51.100.1")
        return await self.verifier.verify(tokens.access_token), tokens

    async def audit(self, action: str) -> list[AuditRecord]:
        async with self.uow() as uow:
            return list((await uow.session.scalars(select(AuditRecord).where(AuditRecord.action == action))).all())

    async def events(self) -> list[str]:
        """Outbox subjects in order."""
        async with self.engine.connect() as conn:
            return [r[0] for r in (await conn.execute(text("SELECT subject FROM outbox ORDER BY seq"))).all()]

    async def execute(self, sql: str, **params: object) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(sql), params)


@pytest.fixture
def identity_url(database_url) -> str:  # noqa: ANN001
    url = database_url("identity")
    migrate.upgrade(MIGRATIONS, url)
    return url


@pytest.fixture
async def identity(identity_url: str):
    env = Identity(identity_url)
    yield env
    await env.engine.dispose()


def detail(record: AuditRecord) -> dict:
    return json.loads(record.detail)

"""Idempotency-Key for creating RPCs, done once for every service (Stripe's semantics).

The gateway forwards the HTTP `Idempotency-Key` header as gRPC metadata `idempotency-key`. For the
methods a service lists, the server (servicekit.grpcserver) asks an IdempotencyStore to reserve
(principal, key, method) in a short transaction of its own, runs the handler, then records the
serialized response, or the status of a deterministic client error, for 24 hours:

- same key, same request, same caller  -> the recorded answer again, no second effect;
- same key, another request            -> ALREADY_EXISTS `idempotency_key_reused`;
- same key while the first is running  -> ABORTED `idempotency_key_in_progress`;
- transient failures (UNAVAILABLE, INTERNAL ...) release the key so that a retry runs again.

The reservation and the handler's own transaction are separate (the mechanism knows nothing of the
service's unit of work), so a process that dies between the handler's commit and the record leaves
an in-progress row; after `lease` a retry may then run the handler a second time.

Only a digest of the key is stored, and recorded answers are encrypted with a key derived from the
Idempotency-Key itself: they may hold a client secret or a person's phone number, and a copy of the
database alone does not reveal them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    Column, DateTime, Index, LargeBinary, MetaData, PrimaryKeyConstraint, String, Table, delete, select, update,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.db import writer
from servicekit.errors import AppError, InvalidArgument

log = logging.getLogger(__name__)

METADATA_KEY = "idempotency-key"
MAX_KEY_LENGTH = 128
IN_PROGRESS, DONE = "in_progress", "done"
OK = "OK"
# Client errors a retry would get again: recorded and replayed. Anything else releases the key.
RECORDED_ERRORS = frozenset({"INVALID_ARGUMENT", "FAILED_PRECONDITION", "NOT_FOUND", "PERMISSION_DENIED",
                             "ALREADY_EXISTS"})


class IdempotencyKeyReused(AppError):
    """This Idempotency-Key was used with a different request."""

    status = "ALREADY_EXISTS"
    code = "idempotency_key_reused"


class IdempotencyKeyInProgress(AppError):
    """A request with this Idempotency-Key is still being processed; retry later."""

    status = "ABORTED"
    code = "idempotency_key_in_progress"


def idempotency_table(metadata: MetaData) -> Table:
    """Declare the idempotency_requests table in a service's metadata."""
    return Table(
        "idempotency_requests", metadata,
        Column("principal", String(100), nullable=False),
        Column("key", String(64), nullable=False),            # sha256 of the Idempotency-Key, hex
        Column("method", String(200), nullable=False),        # full gRPC method name
        Column("request_hash", String(64), nullable=False),   # sha256 of the serialized request, hex
        Column("state", String(16), nullable=False),          # in_progress | done
        Column("response", LargeBinary, nullable=True),       # encrypted: response bytes, or the error as JSON
        Column("grpc_status", String(32), nullable=True),     # OK or the recorded error's status name
        Column("created_at", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint("principal", "key", "method", name="pk_idempotency_requests"),
        Index("ix_idempotency_requests_created_at", "created_at"),
    )


def check_key(key: str) -> str:
    """The key if it is 1..128 printable ASCII characters, else INVALID_ARGUMENT."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not all(" " < ch < "\x7f" for ch in key):
        raise InvalidArgument("Idempotency-Key must be 1 to 128 printable ASCII characters",
                              code="invalid_idempotency_key")
    return key


def request_hash(serialized: bytes) -> str:
    """Fingerprint of a serialized request, to tell a retry from another request under the same key."""
    return hashlib.sha256(serialized).hexdigest()


def key_digest(key: str) -> str:
    """What is stored instead of the key itself."""
    return hashlib.sha256(b"cds-idempotency-key\0" + key.encode()).hexdigest()


def _cipher(key: str, principal: str, method: str) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=f"{principal}\0{method}".encode(),
                   info=b"cds-idempotency-response").derive(key.encode())
    return AESGCM(derived)


@dataclass(frozen=True)
class Recorded:
    """A recorded answer: status OK with the response bytes, or an error's status, code and message."""

    status: str
    response: bytes = b""
    code: str = ""
    message: str = ""
    field: str | None = None

    def error(self) -> AppError:
        """The recorded error, ready to raise again."""
        err = AppError(self.message, code=self.code or self.status.lower(), field=self.field)
        err.status = self.status
        return err


@dataclass(frozen=True)
class Reservation:
    """A key this request holds until it records an answer or releases it."""

    principal: str
    key: str
    method: str
    request_hash: str


class IdempotencyStore:
    """Reserve, record and release keys in the service's database, each in a short transaction."""

    def __init__(self, engine: AsyncEngine, table: Table, *, ttl: timedelta = timedelta(hours=24),
                 lease: timedelta = timedelta(seconds=60), clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 purge_every_s: float = 3600.0):
        self.engine, self.table, self.ttl, self.lease, self.clock = engine, table, ttl, lease, clock
        self.purge_every_s = purge_every_s
        self._purged_at = 0.0

    def _pk(self, r: Reservation):  # noqa: ANN202
        t = self.table
        return (t.c.principal == r.principal) & (t.c.key == key_digest(r.key)) & (t.c.method == r.method)

    def _insert(self, dialect: str, row: dict):  # noqa: ANN202
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:  # pragma: no cover - the platform runs on SQLite and PostgreSQL only
            raise RuntimeError(f"idempotency store: unsupported database {dialect}")
        return (insert(self.table).values(**row)
                .on_conflict_do_nothing(index_elements=["principal", "key", "method"])
                .returning(self.table.c.key))

    async def reserve(self, r: Reservation) -> Recorded | None:
        """Hold the key for this request (None), or the answer recorded for it earlier.

        Raises IdempotencyKeyReused for another request under the same key, IdempotencyKeyInProgress
        while a first request with it still runs. Expired rows and abandoned reservations are taken over.
        """
        await self._maybe_purge()
        now, t = self.clock(), self.table
        row = {"principal": r.principal, "key": key_digest(r.key), "method": r.method,
               "request_hash": r.request_hash, "state": IN_PROGRESS, "response": None, "grpc_status": None,
               "created_at": now}
        async with writer(self.engine), self.engine.begin() as conn:
            if (await conn.execute(self._insert(conn.dialect.name, row))).first() is not None:
                return None
            # Locks the row on PostgreSQL (SQLite holds the database write lock since BEGIN IMMEDIATE).
            old = (await conn.execute(select(t).where(self._pk(r)).with_for_update())).mappings().first()
            if old is None:  # deleted between the two statements: take it now
                await conn.execute(t.insert().values(**row))
                return None
            created = old["created_at"] if old["created_at"].tzinfo else old["created_at"].replace(tzinfo=UTC)
            expired = created < now - self.ttl
            abandoned = old["state"] == IN_PROGRESS and created < now - self.lease
            if expired or abandoned:
                await conn.execute(update(t).where(self._pk(r)).values(**row))
                return None
            if old["request_hash"] != r.request_hash:
                raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
            if old["state"] == IN_PROGRESS:
                raise IdempotencyKeyInProgress("a request with this Idempotency-Key is still in progress")
            return self._decode(r, old["grpc_status"], old["response"])

    def _decode(self, r: Reservation, status: str, sealed: bytes) -> Recorded:
        try:
            plain = _cipher(r.key, r.principal, r.method).decrypt(sealed[:12], sealed[12:], None)
        except InvalidTag as exc:  # same digest, another key: practically impossible
            raise IdempotencyKeyReused("this Idempotency-Key was used with a different request") from exc
        if status == OK:
            return Recorded(OK, response=plain)
        err = json.loads(plain)
        return Recorded(status, code=err.get("code", ""), message=err.get("message", ""), field=err.get("field"))

    async def record(self, r: Reservation, answer: Recorded) -> None:
        """Store the answer of the reserved request (encrypted) and mark the key done."""
        plain = answer.response if answer.status == OK else json.dumps(
            {"code": answer.code, "message": answer.message, "field": answer.field}).encode()
        nonce = os.urandom(12)
        sealed = nonce + _cipher(r.key, r.principal, r.method).encrypt(nonce, plain, None)
        async with writer(self.engine), self.engine.begin() as conn:
            await conn.execute(update(self.table).where(
                self._pk(r), self.table.c.request_hash == r.request_hash, self.table.c.state == IN_PROGRESS,
            ).values(state=DONE, response=sealed, grpc_status=answer.status))

    async def release(self, r: Reservation) -> None:
        """Give the key up (the request failed transiently): a retry runs the handler again."""
        async with writer(self.engine), self.engine.begin() as conn:
            await conn.execute(delete(self.table).where(
                self._pk(r), self.table.c.request_hash == r.request_hash, self.table.c.state == IN_PROGRESS))

    async def purge(self) -> int:
        """Delete rows older than the retention window; how many went."""
        async with writer(self.engine), self.engine.begin() as conn:
            result = await conn.execute(delete(self.table).where(self.table.c.created_at < self.clock() - self.ttl))
        return result.rowcount or 0

    async def _maybe_purge(self) -> None:
        """Purge at most once per `purge_every_s` per process; a failure here must not fail the request."""
        if time.monotonic() - self._purged_at < self.purge_every_s:
            return
        self._purged_at = time.monotonic()
        try:
            await self.purge()
        except Exception:  # noqa: BLE001 - retried at the next interval
            log.warning("idempotency purge failed", exc_info=True)

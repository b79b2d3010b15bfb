"""Where notify learns a person's email address and phone number, at send time only.

Contract: `async lookup(user_ids) -> {user_id: Contact}`; people it does not know are left out;
raise `ContactsUnavailable` when the directory cannot answer now (the send is retried).

The production directory is `GrpcContactDirectory`: identity's internal RPC
`IdentityService.GetContacts(user_ids)`, called as the peer service "notify" with the internal token.
Identity holds phone numbers only (no email), so email deliveries still end as permanent failures
`no_contact`. `EmptyContactDirectory` knows nobody (a deployment without an internal token);
`SqlContactDirectory` reads a contacts table (tests and deployments with a directory database).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import grpc
from sqlalchemy import Column, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from congdanso.identity.v1 import identity_pb2, identity_pb2_grpc
from servicekit import grpcclient


@dataclass(frozen=True)
class Contact:
    """How to reach one person outside the app."""

    email: str = ""
    phone: str = ""


class ContactsUnavailable(Exception):
    """The directory cannot answer right now."""


class ContactDirectory(Protocol):
    """Looks up contact data for a batch of people."""

    async def lookup(self, user_ids: list[str]) -> dict[str, Contact]: ...


class EmptyContactDirectory:
    """Knows nobody (used when notify has no internal token to call identity with)."""

    async def lookup(self, user_ids: list[str]) -> dict[str, Contact]:
        """Nobody is known."""
        return {}


def contacts_table(metadata: MetaData) -> Table:
    """Declare a contacts table (user_id, email, phone) in some directory database."""
    return Table("contacts", metadata, Column("user_id", String(36), primary_key=True),
                 Column("email", String(254), nullable=False, default=""),
                 Column("phone", String(20), nullable=False, default=""))


class SqlContactDirectory:
    """A directory backed by a contacts table."""

    def __init__(self, engine: AsyncEngine, table: Table):
        self.engine, self.table = engine, table

    async def lookup(self, user_ids: list[str]) -> dict[str, Contact]:
        """Rows of the given people."""
        try:
            async with self.engine.connect() as conn:
                rows = (await conn.execute(select(self.table).where(self.table.c.user_id.in_(user_ids)))).all()
        except OSError as exc:
            raise ContactsUnavailable(str(exc)) from exc
        return {r.user_id: Contact(email=r.email or "", phone=r.phone or "") for r in rows}


class GrpcContactDirectory:
    """identity's `IdentityService.GetContacts` over one channel, in batches of at most `batch` ids.

    Any RPC failure (identity down or restarting, deadline exceeded, a refused internal token)
    raises `ContactsUnavailable`: the sends wait and are retried, they are not failed for good.
    """

    MAX_BATCH = 500   # identity's limit per GetContacts call

    def __init__(self, identity_addr: str, internal_token: str, *, timeout: float = 3.0, batch: int = MAX_BATCH,
                 channel: grpc.aio.Channel | None = None):
        self._channel = channel or grpcclient.channel(identity_addr)
        self._stub = identity_pb2_grpc.IdentityServiceStub(self._channel)
        self._metadata = grpcclient.internal_metadata("notify", internal_token)
        self.timeout, self.batch = timeout, max(1, min(batch, self.MAX_BATCH))

    async def lookup(self, user_ids: list[str]) -> dict[str, Contact]:
        """Phones of the known, live people among `user_ids` (identity has no email addresses)."""
        ids = list(dict.fromkeys(u for u in user_ids if u))
        found: dict[str, Contact] = {}
        for start in range(0, len(ids), self.batch):
            request = identity_pb2.GetContactsRequest(user_ids=ids[start:start + self.batch])
            try:
                reply = await self._stub.GetContacts(request, metadata=self._metadata, timeout=self.timeout)
            except grpc.RpcError as exc:
                why = exc.code().name if isinstance(exc, grpc.aio.AioRpcError) else type(exc).__name__
                raise ContactsUnavailable(f"identity GetContacts {why}") from exc
            found.update({c.user_id: Contact(phone=c.phone) for c in reply.contacts if c.user_id})
        return found

    async def close(self) -> None:
        """Close the channel."""
        await self._channel.close()

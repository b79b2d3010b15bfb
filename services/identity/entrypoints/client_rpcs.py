"""Integration-client RPCs of IdentityService (OAuth2 client credentials)."""

from __future__ import annotations

from congdanso.identity.v1 import identity_pb2
from services.identity.entrypoints.convert import client_pb
from services.identity.service_layer import clients
from services.identity.service_layer.users import caller
from servicekit.auth import require_principal

MANAGERS = ("operator", "agency_admin")


def _with_secret(issued: clients.IssuedClient) -> identity_pb2.ClientWithSecret:
    return identity_pb2.ClientWithSecret(client=client_pb(issued.client), client_secret=issued.client_secret,
                                         api_key=issued.api_key)


class ClientRpcs:
    """Mixin of IdentityServicer (uses self.uow and self.tokens)."""

    async def IssueClientToken(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            t = await clients.issue_token(uow, self.tokens, client_id=request.client_id,
                                          client_secret=request.client_secret, api_key=request.api_key,
                                          scope=request.scope, client_ip=request.client_ip)
        return identity_pb2.ClientTokenResponse(access_token=t.access_token, expires_in=t.expires_in,
                                                scope=" ".join(t.scopes), token_type="Bearer")

    async def CreateClient(self, request, context):  # noqa: ANN001, N802
        actor = require_principal(*MANAGERS)
        async with self.uow() as uow:
            await caller(uow.session, actor)
            return _with_secret(await clients.create_client(uow, actor, name=request.name, scopes=list(request.scopes),
                                                            agency_code=request.agency_code))

    async def ListClients(self, request, context):  # noqa: ANN001, N802
        actor = require_principal(*MANAGERS)
        async with self.uow(read_only=True) as uow:
            await caller(uow.session, actor)
            rows = await clients.list_clients(uow.session, actor)
        return identity_pb2.ListClientsResponse(clients=[client_pb(c) for c in rows])

    async def RotateClientSecret(self, request, context):  # noqa: ANN001, N802
        actor = require_principal(*MANAGERS)
        async with self.uow() as uow:
            await caller(uow.session, actor)
            return _with_secret(await clients.rotate_secret(uow, actor, request.client_id))

    async def DisableClient(self, request, context):  # noqa: ANN001, N802
        actor = require_principal(*MANAGERS)
        async with self.uow() as uow:
            await caller(uow.session, actor)
            return client_pb(await clients.disable_client(uow, actor, request.client_id))

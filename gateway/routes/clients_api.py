"""Integration clients: the OAuth2 client-credentials token endpoint and client management."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import parse_qs, unquote_plus

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from congdanso.identity.v1 import identity_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.idempotency import IdempotencyKey, with_conflicts
from gateway.protoconv import time_of, time_or_none
from gateway.routes.auth import client_ip
from servicekit.errors import InvalidArgument

router = APIRouter(prefix="/api/v1")
BackendsDep = Annotated[Backends, Depends(backends)]
Scope = Literal["reports:read", "reports:write", "open311:submit", "webhooks:manage"]
ClientId = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_]+$")]
TOKEN_FORM = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "required": ["grant_type"], "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": {"type": "string", "description": "or HTTP Basic authentication"},
        "client_secret": {"type": "string", "description": "or HTTP Basic authentication"},
        "scope": {"type": "string", "example": "reports:read open311:submit"}}}}}}}


class ClientTokenOut(BaseModel):
    """RFC 6749 §5.1 access-token response (no refresh token for client credentials)."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(examples=[900])
    scope: str = Field(examples=["reports:read open311:submit"])


class ClientIn(BaseModel):
    """A new integration client (an agency's system)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "name": "Hệ thống một cửa phường Bến Thành", "scopes": ["reports:read", "reports:write"],
        "agency_code": "ubnd_26743"}]})

    name: str = Field(min_length=1, max_length=120)
    scopes: list[Scope] = Field(min_length=1, max_length=4)
    agency_code: str = Field(default="", max_length=40, pattern=r"^[a-z0-9_]*$")


class ClientOut(BaseModel):
    """An integration client (secrets are never shown again)."""

    id: str = Field(examples=["cli_4f6c0b2e11aa9d03"], description="the OAuth2 client_id")
    name: str
    scopes: list[str]
    agency_code: str
    created_at: datetime
    secret_rotated_at: datetime | None
    disabled: bool


class ClientSecretOut(BaseModel):
    """The client and its new secret(s): store them now, they are shown only once."""

    client: ClientOut
    client_secret: str
    api_key: str | None = Field(default=None, description="Open311 api_key (at creation only)")


class ClientList(BaseModel):
    """Clients the caller manages."""

    items: list[ClientOut]


def client_out(c: identity_pb2.IntegrationClient) -> ClientOut:
    """IntegrationClient proto -> JSON."""
    return ClientOut(id=c.id, name=c.name, scopes=list(c.scopes), agency_code=c.agency_code,
                     created_at=time_of(c, "created_at"), secret_rotated_at=time_or_none(c, "secret_rotated_at"),
                     disabled=c.disabled)


def secret_out(reply: identity_pb2.ClientWithSecret) -> ClientSecretOut:
    """ClientWithSecret proto -> JSON."""
    return ClientSecretOut(client=client_out(reply.client), client_secret=reply.client_secret,
                           api_key=reply.api_key or None)


def _basic(request: Request) -> tuple[str, str]:
    """client_id and secret from HTTP Basic (RFC 6749 §2.3.1: form-urlencoded inside), or empty."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return "", ""
    try:
        user, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidArgument("malformed Basic credentials", code="invalid_request") from exc
    return unquote_plus(user), unquote_plus(password)


@router.post("/auth/token", tags=["auth"], openapi_extra=TOKEN_FORM,
             responses={401: {"model": Problem, "description": "invalid_client"},
                        400: {"model": Problem, "description": "unsupported_grant_type / invalid_scope"}})
async def client_token(request: Request, clients: BackendsDep) -> ClientTokenOut:
    """OAuth2 client-credentials grant for integration clients."""
    # Parsed by hand: FastAPI's Form() needs python-multipart, which is not a dependency, for one form.
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if form.get("grant_type") != "client_credentials":
        raise InvalidArgument("only grant_type=client_credentials is supported", code="unsupported_grant_type",
                              field="grant_type")
    basic_id, basic_secret = _basic(request)
    reply = await clients.call(clients.identity.IssueClientToken, identity_pb2.IssueClientTokenRequest(
        client_id=basic_id or form.get("client_id", ""), client_secret=basic_secret or form.get("client_secret", ""),
        scope=form.get("scope", ""), client_ip=client_ip(request)))
    body = ClientTokenOut(access_token=reply.access_token, token_type="Bearer", expires_in=reply.expires_in,
                          scope=reply.scope)
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.post("/clients", tags=["clients"], status_code=201, responses=with_conflicts({
    401: {"model": Problem}, 403: {"model": Problem}}))
async def create_client(body: ClientIn, caller: CurrentPrincipal, clients: BackendsDep,
                        idempotency_key: IdempotencyKey = None) -> ClientSecretOut:
    """Register an integration client (operator; agency_admin for its own agency).

    A retry with the same Idempotency-Key returns the same client and secret (kept encrypted for 24 hours).
    """
    return secret_out(await clients.call(clients.identity.CreateClient, identity_pb2.CreateClientRequest(
        name=body.name, scopes=body.scopes, agency_code=body.agency_code), token=caller.token,
        idempotency_key=idempotency_key))


@router.get("/clients", tags=["clients"], responses={401: {"model": Problem}, 403: {"model": Problem}})
async def list_clients(caller: CurrentPrincipal, clients: BackendsDep) -> ClientList:
    """Integration clients the caller manages."""
    reply = await clients.call(clients.identity.ListClients, identity_pb2.ListClientsRequest(), token=caller.token)
    return ClientList(items=[client_out(c) for c in reply.clients])


@router.post("/clients/{client_id}/rotate-secret", tags=["clients"],
             responses={401: {"model": Problem}, 404: {"model": Problem, "description": "client_not_found"}})
async def rotate_client_secret(client_id: ClientId, caller: CurrentPrincipal, clients: BackendsDep) -> ClientSecretOut:
    """Issue a new client secret; the old one stops working at once."""
    return secret_out(await clients.call(clients.identity.RotateClientSecret,
                                         identity_pb2.ClientRef(client_id=client_id), token=caller.token))


@router.post("/clients/{client_id}/disable", tags=["clients"],
             responses={401: {"model": Problem}, 404: {"model": Problem, "description": "client_not_found"}})
async def disable_client(client_id: ClientId, caller: CurrentPrincipal, clients: BackendsDep) -> ClientOut:
    """Stop issuing tokens to a client."""
    return client_out(await clients.call(clients.identity.DisableClient, identity_pb2.ClientRef(client_id=client_id),
                                         token=caller.token))

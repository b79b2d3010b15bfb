"""The signed-in account: profile, sessions, identity verification, data export, deletion."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from congdanso.identity.v1 import identity_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.protoconv import time_of, time_or_none
from gateway.routes.auth import UserOut, user_out
from servicekit.auth import Principal
from servicekit.errors import PermissionDenied

router = APIRouter(prefix="/api/v1", tags=["me"], responses={
    401: {"model": Problem}, 403: {"model": Problem, "description": "role_not_allowed (integration clients)"}})
BackendsDep = Annotated[Backends, Depends(backends)]


async def person(caller: CurrentPrincipal) -> Principal:
    """The signed-in person; an integration client has no account here (403, not identity's 404)."""
    if caller.role == "client":
        raise PermissionDenied("integration clients have no account", code="role_not_allowed")
    return caller


Person = Annotated[Principal, Depends(person)]


class ProfileIn(BaseModel):
    """Fields to change (omitted ones stay as they are)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"language": "en", "home_ward_code": "26743"}]})

    full_name: str | None = Field(default=None, min_length=1, max_length=120)
    language: Literal["vi", "en"] | None = None
    home_ward_code: str | None = Field(default=None, pattern=r"^(\d{5})?$")


class SessionOut(BaseModel):
    """One signed-in device or browser."""

    id: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    client_ip: str = Field(examples=["203.0.113.7"])
    method: str = Field(examples=["password"], description="password | otp | verify_phone")
    current: bool


class SessionList(BaseModel):
    """Active sessions, newest first."""

    items: list[SessionOut]


class RevokedOut(BaseModel):
    """How many sessions ended."""

    revoked: int


class DeleteAccountIn(BaseModel):
    """Confirm with the password: personal data is erased; reports stay, pseudonymised."""

    password: str = Field(min_length=1, max_length=128)


class IdentityVerificationIn(BaseModel):
    """Who you are, as on your citizen identity card (assurance level 2)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "personal_id": "079090001234", "full_name": "Nguyễn Văn An", "birth_date": "1990-05-17", "sex": "male"}]})

    personal_id: str = Field(min_length=1, max_length=20, description="12-digit personal ID number")
    full_name: str = Field(min_length=1, max_length=120)
    birth_date: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["1990-05-17"])
    sex: Literal["male", "female"]


@router.get("/me")
async def me(caller: Person, clients: BackendsDep) -> UserOut:
    """The signed-in account."""
    return user_out(await clients.call(clients.identity.GetMe, identity_pb2.GetMeRequest(), token=caller.token))


@router.patch("/me")
async def update_me(body: ProfileIn, caller: Person, clients: BackendsDep) -> UserOut:
    """Change name, language or home ward."""
    fields = body.model_dump(exclude_none=True)
    return user_out(await clients.call(clients.identity.UpdateProfile, identity_pb2.UpdateProfileRequest(**fields),
                                       token=caller.token))


@router.get("/me/sessions")
async def list_sessions(caller: Person, clients: BackendsDep) -> SessionList:
    """Where the account is signed in."""
    reply = await clients.call(clients.identity.ListSessions, identity_pb2.ListSessionsRequest(), token=caller.token)
    return SessionList(items=[SessionOut(
        id=s.id, created_at=time_of(s, "created_at"), last_used_at=time_or_none(s, "last_used_at"),
        expires_at=time_of(s, "expires_at"), client_ip=s.client_ip, method=s.method, current=s.current)
        for s in reply.sessions])


@router.delete("/me/sessions/{session_id}", status_code=204, response_class=Response,
               responses={404: {"model": Problem, "description": "session_not_found"}})
async def revoke_session(session_id: Annotated[str, Path(min_length=1, max_length=64)], caller: Person,
                         clients: BackendsDep) -> Response:
    """Sign out one session (its refresh token stops working at once)."""
    await clients.call(clients.identity.RevokeSession, identity_pb2.RevokeSessionRequest(session_id=session_id),
                       token=caller.token)
    return Response(status_code=204)


@router.post("/me/sessions/revoke-others")
async def revoke_other_sessions(caller: Person, clients: BackendsDep) -> RevokedOut:
    """Sign out everywhere except here."""
    reply = await clients.call(clients.identity.RevokeOtherSessions, identity_pb2.RevokeOtherSessionsRequest(),
                               token=caller.token)
    return RevokedOut(revoked=reply.revoked)


@router.get("/me/export")
async def export_my_data(caller: Person, clients: BackendsDep) -> dict[str, Any]:
    """Everything the identity service holds about you, as JSON."""
    reply = await clients.call(clients.identity.ExportMyData, identity_pb2.ExportMyDataRequest(), token=caller.token)
    return json.loads(reply.json)


@router.post("/me/delete", status_code=204, response_class=Response,
             responses={401: {"model": Problem, "description": "invalid_credentials"}})
async def delete_my_account(body: DeleteAccountIn, caller: Person, clients: BackendsDep) -> Response:
    """Delete the account: personal data erased, sessions ended, other services pseudonymise."""
    await clients.call(clients.identity.DeleteMyAccount, identity_pb2.DeleteMyAccountRequest(password=body.password),
                       token=caller.token)
    return Response(status_code=204)


@router.post("/me/identity-verification",
             responses={409: {"model": Problem, "description": "identity_not_matched | phone_not_verified"},
                        429: {"model": Problem, "description": "verification_locked"}})
async def verify_identity(body: IdentityVerificationIn, caller: Person, clients: BackendsDep) -> UserOut:
    """Verify your identity against the resident registry (assurance level 2; refresh for tokens that say so)."""
    return user_out(await clients.call(clients.identity.VerifyIdentity, identity_pb2.VerifyIdentityRequest(
        personal_id=body.personal_id, full_name=body.full_name, birth_date=body.birth_date, sex=body.sex),
        token=caller.token))

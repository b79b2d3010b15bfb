"""Accounts and sessions: register, login, refresh, logout, me (IdentityService)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from congdanso.identity.v1 import identity_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.protoconv import time_of

router = APIRouter(prefix="/api/v1")
BackendsDep = Annotated[Backends, Depends(backends)]
PHONE = r"^\+?[0-9 ().-]{8,20}$"
WARD_CODE = r"^(\d{5})?$"


class RegisterIn(BaseModel):
    """A new resident account."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "phone": "0901234567", "password": "mat-khau-rat-dai", "full_name": "Nguyễn Văn An",
        "language": "vi", "home_ward_code": "26734"}]})

    phone: str = Field(pattern=PHONE, description="Vietnamese mobile number, national or E.164 form")
    password: str = Field(min_length=1, max_length=128)
    full_name: str = Field(min_length=1, max_length=120)
    language: Literal["vi", "en"] = "vi"
    home_ward_code: str = Field(default="", pattern=WARD_CODE, description="5-digit ward code, or empty")


class UserOut(BaseModel):
    """An account as its owner sees it."""

    id: str = Field(examples=["0198c2a0-7d3e-7c4f-9a51-3f1f5d0b2e11"])
    phone: str = Field(examples=["+84901234567"])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    language: str = Field(examples=["vi"])
    home_ward_code: str = Field(examples=["26734"])
    role: str = Field(examples=["citizen"])
    agency_code: str = Field(examples=[""])
    assurance_level: int = Field(examples=[1])
    created_at: datetime


class RegisterOut(BaseModel):
    """The account just created."""

    user: UserOut


class LoginIn(BaseModel):
    """Phone number and password."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "0901234567",
                                                               "password": "mat-khau-rat-dai"}]})

    phone: str = Field(min_length=1, max_length=32)
    password: str = Field(min_length=1, max_length=128)


class RefreshIn(BaseModel):
    """A refresh token (rotated on every use)."""

    refresh_token: str = Field(min_length=1, max_length=512)


class TokenOut(BaseModel):
    """An access token (JWT, short-lived) and an opaque refresh token."""

    access_token: str = Field(examples=["eyJhbGciOiJFZERTQSIsImtpZCI6Ii4uLiJ9..."])
    refresh_token: str = Field(examples=["rt_4f6c0b..."])
    token_type: Literal["Bearer"] = Field(examples=["Bearer"])
    expires_in: int = Field(examples=[900], description="seconds")


def user_out(user: identity_pb2.User) -> UserOut:
    """User proto -> JSON."""
    return UserOut(id=user.id, phone=user.phone, full_name=user.full_name, language=user.language,
                   home_ward_code=user.home_ward_code, role=user.role, agency_code=user.agency_code,
                   assurance_level=user.assurance_level, created_at=time_of(user, "created_at"))


def token_out(pair: identity_pb2.TokenPair) -> TokenOut:
    """TokenPair proto -> JSON."""
    return TokenOut(access_token=pair.access_token, refresh_token=pair.refresh_token, token_type="Bearer",
                    expires_in=pair.expires_in)


@router.post("/auth/register", tags=["auth"], status_code=201,
             responses={409: {"model": Problem, "description": "phone_taken"}})
async def register(body: RegisterIn, clients: BackendsDep) -> RegisterOut:
    """Create a resident account."""
    reply = await clients.call(clients.identity.Register, identity_pb2.RegisterRequest(
        phone=body.phone, password=body.password, full_name=body.full_name, language=body.language,
        home_ward_code=body.home_ward_code))
    return RegisterOut(user=user_out(reply.user))


@router.post("/auth/login", tags=["auth"], responses={401: {"model": Problem, "description": "invalid_credentials"}})
async def login(body: LoginIn, request: Request, clients: BackendsDep) -> TokenOut:
    """Open a session: an access token and a refresh token."""
    client_ip = request.client.host if request.client else ""
    pair = await clients.call(clients.identity.Login, identity_pb2.LoginRequest(
        phone=body.phone, password=body.password, client_ip=client_ip))
    return token_out(pair)


@router.post("/auth/refresh", tags=["auth"], responses={401: {"model": Problem, "description": "refresh_rejected"}})
async def refresh(body: RefreshIn, clients: BackendsDep) -> TokenOut:
    """Swap a refresh token for a new pair (the old one stops working)."""
    pair = await clients.call(clients.identity.Refresh, identity_pb2.RefreshRequest(refresh_token=body.refresh_token))
    return token_out(pair)


@router.post("/auth/logout", tags=["auth"], status_code=204, response_class=Response,
             responses={401: {"model": Problem}})
async def logout(caller: CurrentPrincipal, clients: BackendsDep) -> Response:
    """End the current session."""
    await clients.call(clients.identity.Logout, identity_pb2.LogoutRequest(), token=caller.token)
    return Response(status_code=204)


@router.get("/me", tags=["me"], responses={401: {"model": Problem}})
async def me(caller: CurrentPrincipal, clients: BackendsDep) -> UserOut:
    """The signed-in account."""
    return user_out(await clients.call(clients.identity.GetMe, identity_pb2.GetMeRequest(), token=caller.token))

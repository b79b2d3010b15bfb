"""Sign-up, phone verification, SMS codes, log-in, tokens (IdentityService).

Answers never reveal whether a phone number has an account: sign-up, code requests and failed
log-ins look the same for known and unknown numbers.
"""

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

router = APIRouter(prefix="/api/v1", tags=["auth"])
BackendsDep = Annotated[Backends, Depends(backends)]
PHONE = r"^\+?[0-9 ().-]{8,20}$"
WARD_CODE = r"^(\d{5})?$"
CODE = r"^\s*[0-9]{6}\s*$"
Phone = Annotated[str, Field(min_length=1, max_length=32, description="Vietnamese mobile number, national or E.164")]
OtpCode = Annotated[str, Field(pattern=CODE, description="the 6-digit code from the SMS", examples=["123456"])]
GENERIC_401 = {401: {"model": Problem, "description": "otp_invalid (wrong, expired, used up or never sent)"}}


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
    """An account as its owner (or a manager) sees it."""

    id: str = Field(examples=["0198c2a0-7d3e-7c4f-9a51-3f1f5d0b2e11"])
    phone: str = Field(examples=["+84901234567"])
    full_name: str = Field(examples=["Nguyễn Văn An"])
    language: str = Field(examples=["vi"])
    home_ward_code: str = Field(examples=["26734"])
    role: str = Field(examples=["citizen"])
    agency_code: str = Field(examples=[""])
    assurance_level: int = Field(examples=[1], description="0 none, 1 phone verified, 2 identity verified")
    created_at: datetime


class RegisterOut(BaseModel):
    """The pending account; an SMS code to verify the phone is on its way."""

    user: UserOut
    otp_expires_in: int = Field(default=300, examples=[300], description="seconds")
    resend_after: int = Field(default=60, examples=[60], description="seconds before another code may be asked")


class VerifyIn(BaseModel):
    """The code sent to the phone at sign-up."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "0901234567", "code": "123456"}]})

    phone: Phone
    code: OtpCode


class OtpRequestIn(BaseModel):
    """Ask for an SMS code."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "0901234567", "purpose": "login"}]})

    phone: Phone
    purpose: Literal["login", "reset_password", "verify_phone"]


class OtpRequestOut(BaseModel):
    """Sent if the number can receive it (the answer is the same either way)."""

    expires_in: int = Field(examples=[300])
    resend_after: int = Field(examples=[60])


class OtpLoginIn(BaseModel):
    """Log in with an SMS code (purpose login)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "0901234567", "code": "123456"}]})

    phone: Phone
    code: OtpCode


class PasswordResetIn(BaseModel):
    """A new password, authorised by an SMS code (purpose reset_password); every session ends."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "phone": "0901234567", "code": "123456", "new_password": "mat-khau-moi-rat-dai"}]})

    phone: Phone
    code: OtpCode
    new_password: str = Field(min_length=1, max_length=128)


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


def client_ip(request: Request) -> str:
    """The caller's address as the gateway sees it (lockouts per IP use it)."""
    return request.client.host if request.client else ""


@router.post("/auth/register", status_code=201,
             responses={429: {"model": Problem, "description": "otp_cooldown"}})
async def register(body: RegisterIn, clients: BackendsDep) -> RegisterOut:
    """Start a sign-up: an SMS code goes to the phone; finish with POST /auth/verify."""
    reply = await clients.call(clients.identity.Register, identity_pb2.RegisterRequest(
        phone=body.phone, password=body.password, full_name=body.full_name, language=body.language,
        home_ward_code=body.home_ward_code))
    return RegisterOut(user=user_out(reply.user), otp_expires_in=reply.otp_expires_in or 300,
                       resend_after=reply.resend_after or 60)


@router.post("/auth/verify", responses=GENERIC_401)
async def verify_phone(body: VerifyIn, request: Request, clients: BackendsDep) -> TokenOut:
    """Verify the phone with the sign-up code (assurance level 1) and open a session."""
    return token_out(await clients.call(clients.identity.VerifyPhone, identity_pb2.VerifyPhoneRequest(
        phone=body.phone, code=body.code, client_ip=client_ip(request))))


@router.post("/auth/otp", status_code=202, responses={429: {"model": Problem, "description": "otp_cooldown"}})
async def request_otp(body: OtpRequestIn, request: Request, clients: BackendsDep) -> OtpRequestOut:
    """Send an SMS code (6 digits, valid 5 minutes, 5 tries, one per minute per number)."""
    reply = await clients.call(clients.identity.RequestOtp, identity_pb2.RequestOtpRequest(
        phone=body.phone, purpose=body.purpose, client_ip=client_ip(request)))
    return OtpRequestOut(expires_in=reply.expires_in, resend_after=reply.resend_after)


@router.post("/auth/otp/login", responses=GENERIC_401)
async def login_with_otp(body: OtpLoginIn, request: Request, clients: BackendsDep) -> TokenOut:
    """Open a session with an SMS code instead of a password."""
    return token_out(await clients.call(clients.identity.LoginWithOtp, identity_pb2.LoginWithOtpRequest(
        phone=body.phone, code=body.code, client_ip=client_ip(request))))


@router.post("/auth/password/reset", status_code=204, response_class=Response, responses=GENERIC_401)
async def reset_password(body: PasswordResetIn, request: Request, clients: BackendsDep) -> Response:
    """Set a new password with a reset code; every session of the account ends."""
    await clients.call(clients.identity.ResetPassword, identity_pb2.ResetPasswordRequest(
        phone=body.phone, code=body.code, new_password=body.new_password, client_ip=client_ip(request)))
    return Response(status_code=204)


@router.post("/auth/login", responses={401: {"model": Problem, "description": "invalid_credentials"}})
async def login(body: LoginIn, request: Request, clients: BackendsDep) -> TokenOut:
    """Open a session: an access token and a refresh token (locks out after repeated failures)."""
    pair = await clients.call(clients.identity.Login, identity_pb2.LoginRequest(
        phone=body.phone, password=body.password, client_ip=client_ip(request)))
    return token_out(pair)


@router.post("/auth/refresh", responses={401: {"model": Problem, "description": "refresh_rejected"}})
async def refresh(body: RefreshIn, request: Request, clients: BackendsDep) -> TokenOut:
    """Swap a refresh token for a new pair; reusing a spent one ends the whole session."""
    pair = await clients.call(clients.identity.Refresh, identity_pb2.RefreshRequest(
        refresh_token=body.refresh_token, client_ip=client_ip(request)))
    return token_out(pair)


@router.post("/auth/logout", status_code=204, response_class=Response, responses={401: {"model": Problem}})
async def logout(caller: CurrentPrincipal, clients: BackendsDep) -> Response:
    """End the current session."""
    await clients.call(clients.identity.Logout, identity_pb2.LogoutRequest(), token=caller.token)
    return Response(status_code=204)

"""Staff accounts, residents' contact data (audited), the audit log and signing keys (IdentityService)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from congdanso.common.v1 import common_pb2
from congdanso.identity.v1 import identity_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.idempotency import IdempotencyKey, with_conflicts
from gateway.protoconv import next_cursor, time_of
from gateway.routes.auth import UserOut, user_out

router = APIRouter(prefix="/api/v1", tags=["staff"],
                   responses={401: {"model": Problem}, 403: {"model": Problem, "description": "role_not_allowed"}})
BackendsDep = Annotated[Backends, Depends(backends)]
UserId = Annotated[str, Path(min_length=1, max_length=64)]


class StaffIn(BaseModel):
    """A staff account: operators create agency admins, officers and auditors; agency admins create
    officers of their own agency. The person signs in first with an SMS code."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "phone": "0912000111", "full_name": "Đỗ Văn Giang", "role": "officer", "agency_code": "ubnd_26743"}]})

    phone: str = Field(min_length=1, max_length=32)
    full_name: str = Field(min_length=1, max_length=120)
    role: Literal["officer", "agency_admin", "auditor"]
    agency_code: str = Field(default="", max_length=40, pattern=r"^[a-z0-9_]*$")
    language: Literal["vi", "en"] = "vi"


class StaffOut(UserOut):
    """A staff account."""

    disabled: bool


class StaffPage(BaseModel):
    """One page of staff accounts."""

    items: list[StaffOut]
    next_cursor: str | None


class ContactOut(BaseModel):
    """How to reach a resident (this read is in the audit log)."""

    user_id: str
    phone: str
    full_name: str
    language: str


class AuditEntryOut(BaseModel):
    """One audit-log entry (no personal data in `detail`)."""

    id: str
    at: datetime
    action: str = Field(examples=["contact_read"])
    actor_id: str
    actor_role: str
    subject_id: str
    client_ip: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    """Audit entries, newest first."""

    items: list[AuditEntryOut]
    next_cursor: str | None


class KeyRotationOut(BaseModel):
    """The new signing key; the retired one keeps verifying until its tokens expire."""

    kid: str
    retired_kid: str


def staff_out(user: identity_pb2.User) -> StaffOut:
    """User proto -> staff JSON."""
    return StaffOut(**user_out(user).model_dump(), disabled=user.disabled)


@router.post("/staff", status_code=201, responses=with_conflicts({409: {"model": Problem, "description": "phone_taken"}}))
async def create_staff(body: StaffIn, caller: CurrentPrincipal, clients: BackendsDep,
                       idempotency_key: IdempotencyKey = None) -> StaffOut:
    """Create a staff account (operator, agency_admin)."""
    return staff_out(await clients.call(clients.identity.CreateStaff, identity_pb2.CreateStaffRequest(
        phone=body.phone, full_name=body.full_name, role=body.role, agency_code=body.agency_code,
        language=body.language), token=caller.token, idempotency_key=idempotency_key))


@router.get("/staff")
async def list_staff(caller: CurrentPrincipal, clients: BackendsDep,
                     agency_code: Annotated[str, Query(max_length=40)] = "",
                     cursor: Annotated[str, Query(max_length=512)] = "",
                     limit: Annotated[int, Query(ge=1, le=200)] = 50) -> StaffPage:
    """Staff accounts (operator, auditor: all; agency_admin: own agency)."""
    reply = await clients.call(clients.identity.ListStaff, identity_pb2.ListStaffRequest(
        agency_code=agency_code, page=common_pb2.PageRequest(cursor=cursor, limit=limit)), token=caller.token)
    return StaffPage(items=[staff_out(u) for u in reply.users], next_cursor=next_cursor(reply.page))


@router.post("/staff/{user_id}/disable")
async def disable_staff(user_id: UserId, caller: CurrentPrincipal, clients: BackendsDep) -> StaffOut:
    """Disable a staff account and end its sessions (operator; agency_admin for own officers)."""
    return staff_out(await clients.call(clients.identity.DisableStaff, identity_pb2.DisableStaffRequest(
        user_id=user_id), token=caller.token))


@router.get("/users/{user_id}/contact")
async def user_contact(user_id: UserId, caller: CurrentPrincipal, clients: BackendsDep,
                       reason: Annotated[str, Query(min_length=1, max_length=200)]) -> ContactOut:
    """A resident's phone and name for handling their report (officer, agency_admin, operator; audited)."""
    c = await clients.call(clients.identity.GetUserContact, identity_pb2.GetUserContactRequest(
        user_id=user_id, reason=reason), token=caller.token)
    return ContactOut(user_id=c.user_id, phone=c.phone, full_name=c.full_name, language=c.language)


@router.get("/audit")
async def audit_log(caller: CurrentPrincipal, clients: BackendsDep,
                    action: Annotated[str, Query(max_length=40)] = "",
                    actor_id: Annotated[str, Query(max_length=64)] = "",
                    subject_id: Annotated[str, Query(max_length=64)] = "",
                    cursor: Annotated[str, Query(max_length=512)] = "",
                    limit: Annotated[int, Query(ge=1, le=200)] = 50) -> AuditPage:
    """The audit log, newest first (auditor, operator)."""
    reply = await clients.call(clients.identity.ListAuditLog, identity_pb2.ListAuditLogRequest(
        action=action, actor_id=actor_id, subject_id=subject_id,
        page=common_pb2.PageRequest(cursor=cursor, limit=limit)), token=caller.token)
    return AuditPage(items=[AuditEntryOut(id=a.id, at=time_of(a, "at"), action=a.action, actor_id=a.actor_id,
                                          actor_role=a.actor_role, subject_id=a.subject_id, client_ip=a.client_ip,
                                          detail=json.loads(a.detail_json or "{}")) for a in reply.entries],
                     next_cursor=next_cursor(reply.page))


@router.post("/signing-keys/rotate")
async def rotate_signing_key(caller: CurrentPrincipal, clients: BackendsDep) -> KeyRotationOut:
    """Start signing with a new key; tokens signed with the old one stay valid until they expire (operator)."""
    reply = await clients.call(clients.identity.RotateSigningKey, identity_pb2.RotateSigningKeyRequest(),
                               token=caller.token)
    return KeyRotationOut(kid=reply.kid, retired_kid=reply.retired_kid)

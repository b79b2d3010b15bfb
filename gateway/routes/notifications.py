"""The resident's inbox (NotifyService)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from congdanso.common.v1 import common_pb2
from congdanso.notify.v1 import notify_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.protoconv import next_cursor, time_of

router = APIRouter(prefix="/api/v1", tags=["notifications"], responses={401: {"model": Problem}})
BackendsDep = Annotated[Backends, Depends(backends)]
NotificationId = Annotated[str, Field(min_length=1, max_length=64)]


class NotificationOut(BaseModel):
    """One inbox message, already in the recipient's language."""

    id: str
    type: str = Field(examples=["report_assigned"])
    title: str = Field(examples=["Phản ánh của bạn đã được chuyển đến UBND phường"])
    body: str
    report_id: str
    read: bool
    created_at: datetime


class NotificationPage(BaseModel):
    """One page of the inbox and how many are unread in total."""

    items: list[NotificationOut]
    next_cursor: str | None
    unread_count: int


class MarkReadIn(BaseModel):
    """Which notifications to mark read: the listed ids, or all of them."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"ids": ["0198c2a0-7d3e-7c4f-9a51-3f1f5d0b2e11"]},
                                                              {"all": True}]})

    ids: list[NotificationId] = Field(default_factory=list, max_length=500)
    all: bool = False


class MarkReadOut(BaseModel):
    """How many notifications changed."""

    updated: int


@router.get("/notifications")
async def list_notifications(
    caller: CurrentPrincipal, clients: BackendsDep,
    cursor: Annotated[str, Query(max_length=512)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    unread_only: bool = False,
) -> NotificationPage:
    """The caller's notifications, newest first."""
    reply = await clients.call(clients.notify.ListNotifications, notify_pb2.ListNotificationsRequest(
        page=common_pb2.PageRequest(cursor=cursor, limit=limit), unread_only=unread_only), token=caller.token)
    return NotificationPage(
        items=[NotificationOut(id=n.id, type=n.type, title=n.title, body=n.body, report_id=n.report_id,
                               read=n.read, created_at=time_of(n, "created_at")) for n in reply.notifications],
        next_cursor=next_cursor(reply.page), unread_count=reply.unread_count)


@router.post("/notifications/read")
async def mark_read(body: MarkReadIn, caller: CurrentPrincipal, clients: BackendsDep) -> MarkReadOut:
    """Mark notifications read."""
    reply = await clients.call(clients.notify.MarkRead, notify_pb2.MarkReadRequest(ids=body.ids, all=body.all),
                               token=caller.token)
    return MarkReadOut(updated=reply.updated)

"""The resident's inbox (NotifyService)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Literal

import grpc

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from congdanso.common.v1 import common_pb2
from congdanso.notify.v1 import notify_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.protoconv import next_cursor, time_of, time_or_none
from servicekit.grpcclient import auth_metadata

log = logging.getLogger(__name__)
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


class UnreadCountOut(BaseModel):
    """How many of the caller's notifications are unread."""

    unread_count: int


class DeliveryOut(BaseModel):
    """One notification on one outside channel (email, sms, push), as GOV.UK Notify reports it."""

    id: str
    channel: Literal["email", "sms", "push"]
    status: Literal["created", "sending", "delivered", "temporary-failure", "permanent-failure",
                    "technical-failure"]
    attempts: int
    destination: str = Field(description="Masked address", examples=["+8490*****67"])
    reason: str
    not_before: datetime | None
    updated_at: datetime | None
    template_version: int


class DeliveriesOut(BaseModel):
    """The delivery log of one notification."""

    items: list[DeliveryOut]


def notification_out(n: notify_pb2.Notification) -> NotificationOut:
    """Proto -> JSON."""
    return NotificationOut(id=n.id, type=n.type, title=n.title, body=n.body, report_id=n.report_id, read=n.read,
                           created_at=time_of(n, "created_at"))


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
        items=[notification_out(n) for n in reply.notifications],
        next_cursor=next_cursor(reply.page), unread_count=reply.unread_count)


@router.post("/notifications/read")
async def mark_read(body: MarkReadIn, caller: CurrentPrincipal, clients: BackendsDep) -> MarkReadOut:
    """Mark notifications read."""
    reply = await clients.call(clients.notify.MarkRead, notify_pb2.MarkReadRequest(ids=body.ids, all=body.all),
                               token=caller.token)
    return MarkReadOut(updated=reply.updated)


@router.get("/notifications/unread-count")
async def unread_count(caller: CurrentPrincipal, clients: BackendsDep) -> UnreadCountOut:
    """How many of the caller's notifications are unread (for the badge)."""
    reply = await clients.call(clients.notify.CountUnread, notify_pb2.CountUnreadRequest(), token=caller.token)
    return UnreadCountOut(unread_count=reply.unread_count)


@router.get("/notifications/{notification_id}/deliveries",
            responses={404: {"model": Problem, "description": "notification_not_found"}})
async def list_deliveries(notification_id: Annotated[str, Path(min_length=1, max_length=64)],
                          caller: CurrentPrincipal, clients: BackendsDep) -> DeliveriesOut:
    """How one of the caller's notifications went out on email, SMS and push."""
    reply = await clients.call(clients.notify.ListDeliveries,
                               notify_pb2.ListDeliveriesRequest(notification_id=notification_id), token=caller.token)
    return DeliveriesOut(items=[DeliveryOut(
        id=d.id, channel=d.channel, status=d.status, attempts=d.attempts, destination=d.destination,
        reason=d.reason, not_before=time_or_none(d, "not_before"), updated_at=time_or_none(d, "updated_at"),
        template_version=d.template_version) for d in reply.deliveries])


# Stream positions are notification ids (time-ordered UUIDs); the nil UUID is "before everything".
EVENT_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
BEFORE_EVERYTHING = "00000000-0000-0000-0000-000000000000"


async def stream_start(clients: Backends, token: str) -> str:
    """Where a new stream starts: after the newest inbox item (nil UUID for an empty inbox)."""
    reply = await clients.call(clients.notify.ListNotifications, notify_pb2.ListNotificationsRequest(
        page=common_pb2.PageRequest(limit=1)), token=token)
    return reply.notifications[0].id if reply.notifications else BEFORE_EVERYTHING


@router.get("/events", response_class=StreamingResponse, responses={
    200: {"content": {"text/event-stream": {"example": 'id: 0198...\nevent: notification\ndata: {"id": "0198..."}\n\n'}},
          "description": "Server-sent events: first `retry` and the stream position (`id`), then `notification` "
                         "(the inbox item as JSON) and `: ping` heartbeat comments"},
    400: {"model": Problem, "description": "validation_error (Last-Event-ID is not an event id)"}})
async def events(caller: CurrentPrincipal, clients: BackendsDep,
                 last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64, pattern=EVENT_ID,
                                                             description="the last event id received")] = None,
                 ) -> StreamingResponse:
    """New inbox items, live; reconnect with Last-Event-ID to get what was missed.

    The first block carries the stream's position as its `id`, so a client that saw no notification
    before losing the connection still resumes from where it started.
    """
    after = last_event_id or await stream_start(clients, caller.token)
    call = clients.notify.WatchNotifications(notify_pb2.WatchNotificationsRequest(after_id=after),
                                             metadata=auth_metadata(caller.token))  # no deadline: long-lived

    async def stream():  # noqa: ANN202
        # `id` is the stream position, the highest id sent so far: notify also sends items that
        # committed late with a lower id, and resuming from such an id would send the ones between again.
        position = after
        try:
            yield f"retry: 3000\nid: {position}\n\n"
            async for n in call:
                if not n.id:
                    yield ": ping\n\n"
                    continue
                position = max(position, n.id)
                yield f"id: {position}\nevent: notification\ndata: {notification_out(n).model_dump_json()}\n\n"
        except grpc.aio.AioRpcError as exc:
            # The response has started: end the stream; the client reconnects (retry) with its Last-Event-ID.
            log.warning("event stream ended by the backend", extra={"grpc_status": exc.code().name})
        finally:
            call.cancel()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

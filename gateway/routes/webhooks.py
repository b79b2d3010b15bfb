"""Webhooks of integration clients: subscribe, list, delete, delivery log, redeliver (NotifyService)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from congdanso.common.v1 import common_pb2
from congdanso.notify.v1 import notify_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.idempotency import IdempotencyKey, with_conflicts
from gateway.protoconv import next_cursor, time_of, time_or_none

router = APIRouter(prefix="/api/v1", tags=["webhooks"], responses={
    401: {"model": Problem}, 403: {"model": Problem, "description": "role_not_allowed"}})
BackendsDep = Annotated[Backends, Depends(backends)]
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
EventType = Literal[
    "reports.v1.report_submitted", "reports.v1.report_status_changed", "reports.v1.report_commented",
    "reports.v1.report_merged", "routing.v1.report_assigned", "routing.v1.report_transferred",
    "routing.v1.sla_warning", "routing.v1.report_escalated"]


class WebhookIn(BaseModel):
    """Where to POST and which events. Each POST carries `Cds-Timestamp` and
    `Cds-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "url": "https://hethong.ubnd-benthanh.vn/hooks/congdanso",
        "event_types": ["routing.v1.report_assigned", "reports.v1.report_status_changed"]}]})

    url: str = Field(min_length=8, max_length=500)
    event_types: list[EventType] = Field(min_length=1, max_length=8)


class WebhookOut(BaseModel):
    """A subscription; `secret` is shown once, in the answer to its creation."""

    id: str
    url: str
    event_types: list[str]
    agency_code: str
    created_at: datetime
    secret: str | None = None


class WebhookList(BaseModel):
    """The caller's subscriptions."""

    items: list[WebhookOut]


class WebhookDeliveryOut(BaseModel):
    """One event to one subscription and how its attempts went."""

    id: str
    event_id: str
    event_type: str
    status: Literal["pending", "delivering", "delivered", "failed"]
    attempts: int
    last_status_code: int
    last_error: str
    next_attempt_at: datetime | None
    updated_at: datetime | None


class WebhookDeliveryPage(BaseModel):
    """One page of the delivery log, newest first."""

    items: list[WebhookDeliveryOut]
    next_cursor: str | None


def webhook_out(w: notify_pb2.Webhook) -> WebhookOut:
    """Proto -> JSON."""
    return WebhookOut(id=w.id, url=w.url, event_types=list(w.event_types), agency_code=w.agency_code,
                      created_at=time_of(w, "created_at"), secret=w.secret or None)


def delivery_out(d: notify_pb2.WebhookDelivery) -> WebhookDeliveryOut:
    """Proto -> JSON."""
    return WebhookDeliveryOut(id=d.id, event_id=d.event_id, event_type=d.event_type, status=d.status,
                              attempts=d.attempts, last_status_code=d.last_status_code, last_error=d.last_error,
                              next_attempt_at=time_or_none(d, "next_attempt_at"),
                              updated_at=time_or_none(d, "updated_at"))


@router.post("/webhooks", status_code=201, responses=with_conflicts({
    400: {"model": Problem, "description": "webhook_invalid"}}))
async def create_webhook(body: WebhookIn, caller: CurrentPrincipal, clients: BackendsDep,
                         response: Response, idempotency_key: IdempotencyKey = None) -> WebhookOut:
    """Subscribe an endpoint (integration clients, agency admins, operators)."""
    reply = await clients.call(clients.notify.CreateWebhook, notify_pb2.CreateWebhookRequest(
        url=body.url, event_types=body.event_types), token=caller.token, idempotency_key=idempotency_key)
    response.headers["Cache-Control"] = "no-store"
    return webhook_out(reply)


@router.get("/webhooks")
async def list_webhooks(caller: CurrentPrincipal, clients: BackendsDep) -> WebhookList:
    """The caller's subscriptions (without secrets)."""
    reply = await clients.call(clients.notify.ListWebhooks, notify_pb2.ListWebhooksRequest(), token=caller.token)
    return WebhookList(items=[webhook_out(w) for w in reply.webhooks])


@router.delete("/webhooks/{webhook_id}", status_code=204,
               responses={404: {"model": Problem, "description": "webhook_not_found"}})
async def delete_webhook(webhook_id: Id, caller: CurrentPrincipal, clients: BackendsDep) -> Response:
    """Stop a subscription."""
    await clients.call(clients.notify.DeleteWebhook, notify_pb2.DeleteWebhookRequest(id=webhook_id),
                       token=caller.token)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries",
            responses={404: {"model": Problem, "description": "webhook_not_found"}})
async def list_webhook_deliveries(
    webhook_id: Id, caller: CurrentPrincipal, clients: BackendsDep,
    cursor: Annotated[str, Query(max_length=64)] = "", limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> WebhookDeliveryPage:
    """The delivery log of one subscription."""
    reply = await clients.call(clients.notify.ListWebhookDeliveries, notify_pb2.ListWebhookDeliveriesRequest(
        webhook_id=webhook_id, page=common_pb2.PageRequest(cursor=cursor, limit=limit)), token=caller.token)
    return WebhookDeliveryPage(items=[delivery_out(d) for d in reply.deliveries], next_cursor=next_cursor(reply.page))


@router.post("/webhooks/deliveries/{delivery_id}/redeliver",
             responses={404: {"model": Problem, "description": "webhook_not_found"}})
async def redeliver(delivery_id: Id, caller: CurrentPrincipal, clients: BackendsDep) -> WebhookDeliveryOut:
    """Send a delivered or failed event again."""
    reply = await clients.call(clients.notify.RedeliverWebhook,
                               notify_pb2.RedeliverWebhookRequest(delivery_id=delivery_id), token=caller.token)
    return delivery_out(reply)

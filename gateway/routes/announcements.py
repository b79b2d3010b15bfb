"""Announcements: operators and ward committees publish; everyone reads the feed (NotifyService)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from google.protobuf.timestamp_pb2 import Timestamp
from pydantic import BaseModel, ConfigDict, Field

from congdanso.common.v1 import common_pb2
from congdanso.notify.v1 import notify_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.protoconv import LocalizedText, next_cursor, text, time_of, time_or_none

router = APIRouter(prefix="/api/v1", tags=["announcements"])
BackendsDep = Annotated[Backends, Depends(backends)]
WardCode = Annotated[str, Field(pattern=r"^\d{5}$")]


class AnnouncementIn(BaseModel):
    """A new announcement; no wards = the whole city (operators only)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "title": {"vi": "Cắt nước", "en": "Water cut"},
        "body": {"vi": "Cắt nước 8:00-12:00 ngày 12/3.", "en": "No water 8:00-12:00 on 12 March."},
        "urgent": False, "ward_codes": ["26743"]}]})

    title: LocalizedText
    body: LocalizedText
    urgent: bool = False
    ward_codes: list[WardCode] = Field(default_factory=list, max_length=200)
    expires_at: datetime | None = None


class AnnouncementOut(BaseModel):
    """A published announcement and how far its fan-out to inboxes has got."""

    id: str
    title: LocalizedText
    body: LocalizedText
    urgent: bool
    ward_codes: list[str]
    published_at: datetime
    expires_at: datetime | None
    fanout_status: str = Field(examples=["done"])
    recipients: int


class AnnouncementPage(BaseModel):
    """One page of the feed, newest first."""

    items: list[AnnouncementOut]
    next_cursor: str | None


def announcement_out(a: notify_pb2.Announcement) -> AnnouncementOut:
    """Proto -> JSON."""
    return AnnouncementOut(id=a.id, title=text(a.title), body=text(a.body), urgent=a.urgent,
                           ward_codes=list(a.ward_codes), published_at=time_of(a, "published_at"),
                           expires_at=time_or_none(a, "expires_at"), fanout_status=a.fanout_status,
                           recipients=a.recipients)


@router.post("/announcements", status_code=201, responses={
    401: {"model": Problem}, 403: {"model": Problem, "description": "role_not_allowed, announcement_scope"},
    400: {"model": Problem, "description": "announcement_invalid"}})
async def publish_announcement(
    body: AnnouncementIn, caller: CurrentPrincipal, clients: BackendsDep,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=100,
                                                  pattern=r"^[\x21-\x7e]+$")] = None,
) -> AnnouncementOut:
    """Publish to the whole city or some wards (operators), or to one's own ward (ward committee admins)."""
    expires = None
    if body.expires_at is not None:
        expires = Timestamp()
        expires.FromDatetime(body.expires_at)
    request = notify_pb2.PublishAnnouncementRequest(
        title=common_pb2.LocalizedText(vi=body.title.vi, en=body.title.en),
        body=common_pb2.LocalizedText(vi=body.body.vi, en=body.body.en), urgent=body.urgent,
        ward_codes=body.ward_codes, expires_at=expires, idempotency_key=idempotency_key or "")
    reply = await clients.call(clients.notify.PublishAnnouncement, request, token=caller.token)
    return announcement_out(reply)


@router.get("/announcements", openapi_extra={"security": [{}]})
async def list_announcements(
    clients: BackendsDep,
    ward_code: Annotated[str, Query(pattern=r"^(\d{5})?$")] = "",
    include_expired: bool = False,
    cursor: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> AnnouncementPage:
    """The public feed, newest first; with a ward, only what reaches that ward (city-wide included)."""
    reply = await clients.call(clients.notify.ListAnnouncements, notify_pb2.ListAnnouncementsRequest(
        page=common_pb2.PageRequest(cursor=cursor, limit=limit), ward_code=ward_code,
        include_expired=include_expired))
    return AnnouncementPage(items=[announcement_out(a) for a in reply.announcements],
                            next_cursor=next_cursor(reply.page))

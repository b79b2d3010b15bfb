"""Photos for reports: upload (raw image body) and download (ReportsService)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from congdanso.reports.v1 import reports_pb2
from gateway.auth import CurrentPrincipal, OptionalPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.idempotency import IdempotencyKey, with_conflicts

router = APIRouter(prefix="/api/v1", tags=["reports"])
BackendsDep = Annotated[Backends, Depends(backends)]
MEDIA_ID = r"^[A-Za-z0-9-]{1,64}$"


class MediaOut(BaseModel):
    """A stored photo: re-encoded, metadata removed; pass `id` in a report's `media_ids`."""

    id: str = Field(examples=["01a22704-d000-7921-986f-a8e60bad2bdc"])
    content_type: str = Field(examples=["image/jpeg"])
    width: int
    height: int
    bytes: int
    url: str
    thumbnail_url: str


def media_out(m: reports_pb2.Media) -> MediaOut:
    """Media proto -> JSON."""
    return MediaOut(id=m.id, content_type=m.content_type, width=m.width, height=m.height, bytes=m.bytes,
                    url=f"/api/v1/media/{m.id}", thumbnail_url=f"/api/v1/media/{m.id}?thumbnail=true")


@router.post("/media", status_code=201, responses=with_conflicts({
                 400: {"model": Problem, "description": "invalid_image"}, 413: {"model": Problem}}),
             openapi_extra={"requestBody": {"required": True, "content": {
                 t: {"schema": {"type": "string", "format": "binary"}}
                 for t in ("image/jpeg", "image/png", "image/webp")}}})
async def upload(request: Request, caller: CurrentPrincipal, clients: BackendsDep,
                 idempotency_key: IdempotencyKey = None) -> MediaOut:
    """Upload one photo (JPEG, PNG or WebP, at most 10 MB) as the raw request body; checked by content."""
    content = await request.body()
    reply = await clients.call(clients.reports.UploadMedia, reports_pb2.UploadMediaRequest(content=content),
                               token=caller.token, idempotency_key=idempotency_key)
    return media_out(reply)


@router.get("/media/{media_id}", response_class=Response, openapi_extra={"security": [{}]},
            responses={200: {"content": {"image/jpeg": {}, "image/webp": {}}}, 404: {"model": Problem}})
async def download(media_id: Annotated[str, Path(pattern=MEDIA_ID)], caller: OptionalPrincipal,
                   clients: BackendsDep, thumbnail: bool = False) -> Response:
    """A report's photo (or its thumbnail), visible to whoever may see the report."""
    reply = await clients.call(clients.reports.GetMedia, reports_pb2.GetMediaRequest(id=media_id, thumbnail=thumbnail),
                               token=caller.token if caller else None)
    private = "private" if caller else "public"
    return Response(content=reply.content, media_type=reply.media.content_type,
                    headers={"Cache-Control": f"{private}, max-age=86400", "X-Content-Type-Options": "nosniff"})

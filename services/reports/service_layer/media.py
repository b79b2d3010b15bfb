"""Photos: upload (cleaned, stored), attach to a new report (at most 5), read with the report's rules.

Categories marked `photo_required` need at least one photo when a resident files the report. Integration
clients (agency systems, through Open311 or the REST API) are exempt: Open311 carries at most a
`media_url` pointing elsewhere, and those systems have no way to upload to us. Staff do not file reports.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select

from services.reports.adapters.media_store import MediaStore
from services.reports.adapters.orm import Category, Media, Report
from services.reports.domain import images
from services.reports.domain.errors import PhotoRequired
from services.reports.service_layer.views import can_see_private
from servicekit.auth import Principal
from servicekit.errors import InvalidArgument, NotFound, PermissionDenied
from servicekit.events import new_id

MAX_PER_REPORT = 5


def _key(media_id: str, thumbnail: bool) -> str:
    return f"{media_id}-thumb" if thumbnail else media_id


async def upload(data: bytes, uow_factory, store: MediaStore, principal: Principal) -> Media:  # noqa: ANN001
    """Clean the photo off the event loop, store both sizes, then record it in a short transaction
    (nothing slow runs inside it: on SQLite a writing transaction holds the process's write turn)."""
    if principal.role == "auditor":
        raise PermissionDenied("auditors read only", code="role_not_allowed")
    clean = await asyncio.to_thread(images.clean, data)
    media = Media(id=new_id(), uploader_id=principal.user_id, content_type=clean.content_type,
                  width=clean.width, height=clean.height, bytes=len(clean.content), created_at=datetime.now(UTC))
    await store.put(_key(media.id, False), clean.content)
    await store.put(_key(media.id, True), clean.thumbnail)
    async with uow_factory() as uow:
        uow.session.add(media)
        await uow.commit()
    return media


def check_required(category: Category, media_ids: list[str], principal: Principal) -> None:
    """A resident's report in a `photo_required` category must carry a photo (see the module docstring)."""
    if category.photo_required and principal.role == "citizen" and not media_ids:
        raise PhotoRequired(f"category {category.code!r} needs at least one photo", field="media_ids")


async def attach(media_ids: list[str], report: Report, uow, principal: Principal) -> list[Media]:  # noqa: ANN001
    """Link the uploader's unused photos to their new report; returns them."""
    if len(media_ids) > MAX_PER_REPORT or len(set(media_ids)) != len(media_ids):
        raise InvalidArgument(f"at most {MAX_PER_REPORT} different photos", code="too_many_photos",
                              field="media_ids")
    if not media_ids:
        return []
    rows = (await uow.session.scalars(select(Media).where(Media.id.in_(media_ids)))).all()
    usable = [m for m in rows if m.uploader_id == principal.user_id and m.report_id is None]
    if len(usable) != len(media_ids):
        raise InvalidArgument("unknown, foreign or already used photo", code="invalid_media", field="media_ids")
    for m in usable:
        m.report_id = report.id
    return usable


async def read(media_id: str, thumbnail: bool, session, store: MediaStore,  # noqa: ANN001
               principal: Principal | None) -> tuple[Media, bytes]:
    """The photo if the caller may see its report (or uploaded it and it is not used yet)."""
    media = await session.get(Media, media_id)
    if media is None:
        raise NotFound("photo not found", code="media_not_found")
    if media.report_id is None:
        if principal is None or principal.user_id != media.uploader_id:
            raise NotFound("photo not found", code="media_not_found")
    else:
        report = await session.get(Report, media.report_id)
        if report.visibility == "private" and not can_see_private(report, principal):
            raise NotFound("photo not found", code="media_not_found")
    return media, await store.get(_key(media.id, thumbnail))


async def of_report(session, report_id: str) -> list[Media]:  # noqa: ANN001
    """The photos of a report, in upload order."""
    return list((await session.scalars(select(Media).where(Media.report_id == report_id)
                                       .order_by(Media.id))).all())

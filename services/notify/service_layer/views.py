"""Queries of the inbox and the delivery log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Row

from services.notify.adapters.orm import Delivery, Notification
from services.notify.domain.errors import NotificationNotFound
from services.notify.service_layer.unit_of_work import core
from servicekit.errors import InvalidArgument

MAX_LIMIT, DEFAULT_LIMIT = 100, 20
# residents poll these (the inbox and its badge): Core statements built once, rows not ORM objects
_ITEMS = Notification.__table__
_UNREAD = select(func.count()).select_from(_ITEMS).where(_ITEMS.c.user_id == bindparam("user_id"),
                                                         _ITEMS.c.read_at.is_(None))
_PAGES = {(after, unread): select(_ITEMS).where(
    _ITEMS.c.user_id == bindparam("user_id"),
    *([_ITEMS.c.id < bindparam("cursor")] if after else []),
    *([_ITEMS.c.read_at.is_(None)] if unread else [])).order_by(_ITEMS.c.id.desc()).limit(bindparam("limit"))
    for after in (False, True) for unread in (False, True)}


def page_limit(limit: int) -> int:
    """The page size asked for (default 20), or InvalidArgument outside 1..100."""
    limit = limit or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidArgument(f"limit must be 1 to {MAX_LIMIT}", code="invalid_limit", field="limit")
    return limit


async def unread_count(session, user_id: str) -> int:  # noqa: ANN001
    """How many of the person's inbox items are unread."""
    return (await (await core(session)).execute(_UNREAD, {"user_id": user_id})).scalar() or 0


async def inbox_page(session, user_id: str, *, cursor: str, limit: int,  # noqa: ANN001
                     unread_only: bool) -> tuple[list[Row], str]:
    """Newest first, keyset-paginated on the time-ordered id; (items, next cursor).

    Items are rows with the columns of Notification (read-only snapshots, not ORM objects).
    """
    params = {"user_id": user_id, "limit": limit + 1, **({"cursor": cursor} if cursor else {})}
    rows = list((await (await core(session)).execute(_PAGES[bool(cursor), bool(unread_only)], params)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, rows[-1].id if more else ""


async def mark_read(uow, user_id: str, *, ids: list[str], all_items: bool) -> int:  # noqa: ANN001
    """Mark the listed items (or all) read; returns how many changed."""
    if not all_items and not ids:
        raise InvalidArgument("give ids or all=true", code="nothing_to_mark")
    if len(ids) > 500:
        raise InvalidArgument("at most 500 ids at once", code="too_many_ids", field="ids")
    q = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if not all_items:
        q = q.where(Notification.id.in_(ids))
    result = await uow.session.execute(q.values(read_at=datetime.now(UTC)))
    await uow.commit()
    return result.rowcount or 0


async def deliveries_of(session, user_id: str, notification_id: str) -> list[Delivery]:  # noqa: ANN001
    """The delivery log of one of the person's notifications."""
    owner = await session.scalar(select(Notification.user_id).where(Notification.id == notification_id))
    if owner != user_id:
        raise NotificationNotFound("no such notification")
    q = select(Delivery).where(Delivery.notification_id == notification_id).order_by(Delivery.channel)
    return list((await session.scalars(q)).all())


async def latest_id(session, user_id: str) -> str:  # noqa: ANN001
    """The newest inbox item id of the person ("" when the inbox is empty)."""
    return await session.scalar(select(func.max(Notification.id)).where(Notification.user_id == user_id)) or ""


async def items_after(session, user_id: str, after_id: str, limit: int = 100) -> list[Notification]:  # noqa: ANN001
    """Inbox items newer than `after_id`, oldest first (for live streams)."""
    q = (select(Notification).where(Notification.user_id == user_id, Notification.id > after_id)
         .order_by(Notification.id).limit(limit))
    return list((await session.scalars(q)).all())


async def ids_between(session, user_id: str, low: str, high: str) -> list[str]:  # noqa: ANN001
    """Ids of the person's inbox items with low < id <= high (index only: user_id, id)."""
    q = select(Notification.id).where(Notification.user_id == user_id, Notification.id > low, Notification.id <= high)
    return list((await session.scalars(q)).all())


async def items_by_ids(session, ids: list[str]) -> list[Notification]:  # noqa: ANN001
    """The inbox items with these ids, oldest first."""
    if not ids:
        return []
    return list((await session.scalars(select(Notification).where(Notification.id.in_(ids))
                                       .order_by(Notification.id))).all())

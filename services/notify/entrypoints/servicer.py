"""NotifyService gRPC servicer."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, select, update

from congdanso.common.v1 import common_pb2
from congdanso.notify.v1 import notify_pb2, notify_pb2_grpc
from services.notify.adapters.orm import Notification
from services.notify.adapters.sms import SmsProvider
from services.notify.domain.templates import render
from servicekit.auth import require_principal
from servicekit.errors import InvalidArgument

MAX_LIMIT, DEFAULT_LIMIT = 100, 20


def _ts(value: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


class NotifyServicer(notify_pb2_grpc.NotifyServiceServicer):
    """Inbox queries and direct sends."""

    def __init__(self, uow_factory, sms: SmsProvider):  # noqa: ANN001
        self.uow, self.sms = uow_factory, sms

    async def ListNotifications(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        limit = request.page.limit or DEFAULT_LIMIT
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidArgument(f"limit must be 1 to {MAX_LIMIT}", code="invalid_limit", field="limit")
        mine = Notification.user_id == principal.user_id
        q = select(Notification).where(mine).order_by(Notification.id.desc()).limit(limit + 1)
        if request.page.cursor:
            q = q.where(Notification.id < request.page.cursor)  # ids are UUIDv7: time-ordered
        if request.unread_only:
            q = q.where(Notification.read_at.is_(None))
        async with self.uow() as uow:
            rows = list((await uow.session.scalars(q)).all())
            unread = await uow.session.scalar(select(func.count()).where(mine, Notification.read_at.is_(None)))
        more = len(rows) > limit
        rows = rows[:limit]
        return notify_pb2.ListNotificationsResponse(
            notifications=[notify_pb2.Notification(
                id=n.id, type=n.type, title=n.title, body=n.body, report_id=n.report_id,
                read=n.read_at is not None, created_at=_ts(n.created_at)) for n in rows],
            page=common_pb2.PageResponse(next_cursor=rows[-1].id if more else ""), unread_count=unread or 0)

    async def MarkRead(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        if not request.all and not request.ids:
            raise InvalidArgument("give ids or all=true", code="nothing_to_mark")
        if len(request.ids) > 500:
            raise InvalidArgument("at most 500 ids at once", code="too_many_ids", field="ids")
        q = update(Notification).where(Notification.user_id == principal.user_id, Notification.read_at.is_(None))
        if not request.all:
            q = q.where(Notification.id.in_(list(request.ids)))
        async with self.uow() as uow:
            result = await uow.session.execute(q.values(read_at=datetime.now(UTC)))
            await uow.commit()
        return notify_pb2.MarkReadResponse(updated=result.rowcount or 0)

    async def SendOtp(self, request, context):  # noqa: ANN001, N802
        if not request.phone.startswith("+84") or not request.code.isdigit():
            raise InvalidArgument("phone must be E.164 (+84...) and code digits", code="invalid_otp_request")
        _, text = render("otp", request.language or "vi", {"code": request.code})
        await self.sms.send(request.phone, text)
        return notify_pb2.SendOtpResponse()

"""NotifyService gRPC servicer: translates protobuf <-> service layer, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select, update

from congdanso.common.v1 import common_pb2
from congdanso.notify.v1 import notify_pb2, notify_pb2_grpc
from services.notify.adapters.orm import (
    Announcement, Delivery, Notification, Template, WebhookDelivery, WebhookSubscription,
)
from services.notify.adapters.sms import SmsProvider
from services.notify.adapters.wakeups import InboxWakeups
from services.notify.domain.messages import GROUPS, MESSAGE_TYPES
from services.notify.domain.preferences import Preferences
from services.notify.service_layer import announcements, otp, preferences, templates, views, webhooks
from services.notify.service_layer.live import LOOKBACK_SECONDS, RECENT_SECONDS, InboxTail
from services.notify.service_layer.notifying import Clock, utcnow
from servicekit.auth import require_principal, require_service

STAFF_TEMPLATES = ("operator",)
ANNOUNCERS = ("operator", "agency_admin")
INTEGRATORS = ("operator", "agency_admin", "client")


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAIVE_EPOCH = EPOCH.replace(tzinfo=None)


def _ts(value: datetime | None) -> Timestamp | None:
    # what Timestamp.FromDatetime computes (naive values are UTC), without its time tuples: runs
    # for every item of every inbox page
    if value is None:
        return None
    since = value - (EPOCH if value.tzinfo else NAIVE_EPOCH)
    return Timestamp(seconds=since.days * 86400 + since.seconds, nanos=since.microseconds * 1000)


def _time(msg, name: str) -> datetime | None:  # noqa: ANN001
    return getattr(msg, name).ToDatetime(UTC) if msg.HasField(name) else None


def notification_pb(n: Notification) -> notify_pb2.Notification:
    """Inbox item -> proto."""
    return notify_pb2.Notification(id=n.id, type=n.type, title=n.title, body=n.body, report_id=n.report_id,
                                   read=n.read_at is not None, created_at=_ts(n.created_at),
                                   template_version=n.template_version, announcement_id=n.announcement_id,
                                   urgent=n.urgent)


def preferences_pb(p: Preferences) -> notify_pb2.Preferences:
    """Preferences -> proto (every group, chosen or default)."""
    return notify_pb2.Preferences(
        language=p.language, quiet_hours_start=p.quiet_start, quiet_hours_end=p.quiet_end, timezone=p.timezone,
        groups=[notify_pb2.GroupChannels(group=g.name, channels=list(p.channels_for(g.name)), locked=g.locked)
                for g in GROUPS.values()])


def template_pb(t: Template) -> notify_pb2.Template:
    """Template row -> proto."""
    return notify_pb2.Template(message_type=t.message_type, channel=t.channel, language=t.language,
                               version=t.version, subject=t.subject, body=t.body, created_at=_ts(t.created_at),
                               placeholders=sorted(MESSAGE_TYPES[t.message_type].placeholders))


def announcement_pb(a: Announcement) -> notify_pb2.Announcement:
    """Announcement row -> proto."""
    return notify_pb2.Announcement(
        id=a.id, title=common_pb2.LocalizedText(vi=a.title_vi, en=a.title_en),
        body=common_pb2.LocalizedText(vi=a.body_vi, en=a.body_en), urgent=a.urgent,
        ward_codes=[w for w in a.ward_codes.split(",") if w], published_at=_ts(a.published_at),
        expires_at=_ts(a.expires_at), fanout_status=a.fanout_status, recipients=a.recipients)


def delivery_pb(d: Delivery) -> notify_pb2.Delivery:
    """Delivery row -> proto."""
    return notify_pb2.Delivery(id=d.id, notification_id=d.notification_id, channel=d.channel, status=d.status,
                               attempts=d.attempts, destination=d.destination, reason=d.reason,
                               not_before=_ts(d.not_before), updated_at=_ts(d.updated_at),
                               template_version=d.template_version)


def webhook_pb(w: WebhookSubscription, *, with_secret: bool = False) -> notify_pb2.Webhook:
    """Subscription row -> proto (the secret only right after creation)."""
    return notify_pb2.Webhook(id=w.id, url=w.url, event_types=w.event_types.split(","), agency_code=w.agency_code,
                              active=w.active, created_at=_ts(w.created_at), secret=w.secret if with_secret else "")


def webhook_delivery_pb(d: WebhookDelivery) -> notify_pb2.WebhookDelivery:
    """Webhook delivery row -> proto."""
    return notify_pb2.WebhookDelivery(id=d.id, webhook_id=d.subscription_id, event_id=d.event_id,
                                      event_type=d.event_type, status=d.status, attempts=d.attempts,
                                      last_status_code=d.last_status_code, last_error=d.last_error,
                                      next_attempt_at=_ts(d.next_attempt_at), updated_at=_ts(d.updated_at))


class NotifyServicer(notify_pb2_grpc.NotifyServiceServicer):
    """Inbox, preferences, templates, announcements and OTP sends."""

    def __init__(self, uow_factory, sms: SmsProvider, *, otp_secret: str, otp_per_hour: int = 5,  # noqa: ANN001
                 webhook_allow_private: bool = False, clock: Clock = utcnow, watch_poll: float = 1.0,
                 heartbeat: float = 15.0, watch_lookback: float = LOOKBACK_SECONDS,
                 wakeups: InboxWakeups | None = None):
        self.uow, self.sms, self.clock = uow_factory, sms, clock
        self.watch_poll, self.heartbeat, self.watch_lookback = watch_poll, heartbeat, watch_lookback
        self.wakeups = wakeups or InboxWakeups()
        self.otp_secret, self.otp_per_hour = otp_secret, otp_per_hour
        self.webhook_allow_private = webhook_allow_private

    async def ListNotifications(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        limit = views.page_limit(request.page.limit)
        async with self.uow(read_only=True) as uow:
            rows, cursor = await views.inbox_page(uow.session, principal.user_id, cursor=request.page.cursor,
                                                  limit=limit, unread_only=request.unread_only)
            unread = await views.unread_count(uow.session, principal.user_id)
        return notify_pb2.ListNotificationsResponse(notifications=[notification_pb(n) for n in rows],
                                                    page=common_pb2.PageResponse(next_cursor=cursor),
                                                    unread_count=unread)

    async def CountUnread(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow(read_only=True) as uow:
            return notify_pb2.CountUnreadResponse(unread_count=await views.unread_count(uow.session,
                                                                                        principal.user_id))

    async def MarkRead(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            updated = await views.mark_read(uow, principal.user_id, ids=list(request.ids), all_items=request.all)
        return notify_pb2.MarkReadResponse(updated=updated)

    async def SendOtp(self, request, context):  # noqa: ANN001, N802
        require_service("identity")
        delivery_id = await otp.send_otp(self.uow, self.sms, phone=request.phone, code=request.code,
                                         language=request.language, secret=self.otp_secret,
                                         per_hour=self.otp_per_hour, clock=self.clock)
        return notify_pb2.SendOtpResponse(delivery_id=delivery_id)

    async def GetPreferences(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow(read_only=True) as uow:
            return preferences_pb(await preferences.load(uow.session, principal.user_id))

    async def UpdatePreferences(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        p = request.preferences
        async with self.uow() as uow:
            new = await preferences.update(
                uow, principal.user_id, language=p.language or None,
                channels={g.group: list(g.channels) for g in p.groups},
                quiet_start=p.quiet_hours_start or None, quiet_end=p.quiet_hours_end or None,
                timezone=p.timezone or None)
        return preferences_pb(new)

    async def PutTemplate(self, request, context):  # noqa: ANN001, N802
        principal = require_principal(*STAFF_TEMPLATES)
        async with self.uow() as uow:
            row = await templates.put(uow.session, message_type=request.message_type, channel=request.channel,
                                      language=request.language, subject=request.subject, body=request.body,
                                      author=principal.user_id, now=self.clock())
            await uow.commit()
        templates.forget_cached()
        return template_pb(row)

    async def ListTemplates(self, request, context):  # noqa: ANN001, N802
        require_principal(*STAFF_TEMPLATES, "auditor")
        async with self.uow(read_only=True) as uow:
            rows = await templates.list_current(uow.session, request.message_type)
        return notify_pb2.ListTemplatesResponse(templates=[template_pb(t) for t in rows])

    async def PublishAnnouncement(self, request, context):  # noqa: ANN001, N802
        principal = require_principal(*ANNOUNCERS)
        cmd = announcements.PublishAnnouncement(
            title_vi=request.title.vi, title_en=request.title.en, body_vi=request.body.vi, body_en=request.body.en,
            urgent=request.urgent, ward_codes=tuple(request.ward_codes), expires_at=_time(request, "expires_at"),
            idempotency_key=request.idempotency_key)
        async with self.uow() as uow:
            row = await announcements.publish(uow, cmd, principal, clock=self.clock)
        return announcement_pb(row)

    async def ListAnnouncements(self, request, context):  # noqa: ANN001, N802
        limit = views.page_limit(request.page.limit)
        q = announcements.feed_query(ward_code=request.ward_code, include_expired=request.include_expired,
                                     now=self.clock(), cursor=request.page.cursor, limit=limit)
        async with self.uow(read_only=True) as uow:
            rows = list((await uow.session.scalars(q)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return notify_pb2.ListAnnouncementsResponse(
            announcements=[announcement_pb(a) for a in rows],
            page=common_pb2.PageResponse(next_cursor=rows[-1].id if more else ""))

    async def ListDeliveries(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow(read_only=True) as uow:
            rows = await views.deliveries_of(uow.session, principal.user_id, request.notification_id)
        return notify_pb2.ListDeliveriesResponse(deliveries=[delivery_pb(d) for d in rows])

    async def CreateWebhook(self, request, context):  # noqa: ANN001, N802
        principal = require_principal(*INTEGRATORS)
        async with self.uow() as uow:
            row = await webhooks.subscribe(uow, principal, url=request.url, event_types=list(request.event_types),
                                           allow_private=self.webhook_allow_private, clock=self.clock)
        return webhook_pb(row, with_secret=True)

    async def ListWebhooks(self, request, context):  # noqa: ANN001, N802
        principal = require_principal(*INTEGRATORS)
        q = (select(WebhookSubscription).where(WebhookSubscription.owner_id == principal.user_id,
                                               WebhookSubscription.active.is_(True)).order_by(WebhookSubscription.id))
        async with self.uow(read_only=True) as uow:
            rows = (await uow.session.scalars(q)).all()
        return notify_pb2.ListWebhooksResponse(webhooks=[webhook_pb(w) for w in rows])

    async def DeleteWebhook(self, request, context):  # noqa: ANN001, N802
        principal = require_principal(*INTEGRATORS)
        async with self.uow() as uow:
            row = await webhooks.owned(uow.session, principal, request.id)
            await uow.session.execute(update(WebhookSubscription).where(WebhookSubscription.id == row.id)
                                      .values(active=False))
            await uow.commit()
        webhooks.forget_cached()
        return notify_pb2.DeleteWebhookResponse()

    async def ListWebhookDeliveries(self, request, context):  # noqa: ANN001, N802
        principal = require_principal(*INTEGRATORS)
        limit = views.page_limit(request.page.limit)
        q = (select(WebhookDelivery).where(WebhookDelivery.subscription_id == request.webhook_id)
             .order_by(WebhookDelivery.id.desc()).limit(limit + 1))
        if request.page.cursor:
            q = q.where(WebhookDelivery.id < request.page.cursor)
        async with self.uow(read_only=True) as uow:
            await webhooks.owned(uow.session, principal, request.webhook_id)
            rows = list((await uow.session.scalars(q)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return notify_pb2.ListWebhookDeliveriesResponse(
            deliveries=[webhook_delivery_pb(d) for d in rows],
            page=common_pb2.PageResponse(next_cursor=rows[-1].id if more else ""))

    async def RedeliverWebhook(self, request, context):  # noqa: ANN001, N802
        principal = require_principal(*INTEGRATORS)
        async with self.uow() as uow:
            row = await webhooks.redeliver(uow, principal, request.delivery_id, clock=self.clock)
        return webhook_delivery_pb(row)

    async def WatchNotifications(self, request, context):  # noqa: ANN001, N802
        # Checks the inbox table rather than trusting an in-process signal, so any replica can serve
        # any client and nothing is missed across restarts (resume with after_id); InboxTail also
        # catches items that commit out of id order (see service_layer.live). A check runs at once
        # when a commit wakes this person's streams (adapters.wakeups), else every watch_poll seconds.
        principal = require_principal()
        loop = asyncio.get_running_loop()
        with self.wakeups.watching(principal.user_id) as woken:
            async with self.uow(read_only=True) as uow:
                tail = InboxTail(principal.user_id,
                                 request.after_id or await views.latest_id(uow.session, principal.user_id),
                                 lookback=self.watch_lookback)
                await tail.start(uow.session)
            last_sent = last_full = loop.time()
            while True:
                # a woken check re-reads only the last seconds; one per watch_poll the whole window
                full = not woken.is_set() or loop.time() - last_full >= self.watch_poll
                woken.clear()   # before the check: a commit during it wakes the next one
                async with self.uow(read_only=True) as uow:
                    rows = await tail.poll(uow.session, recent=None if full else RECENT_SECONDS)
                if full:
                    last_full = loop.time()
                for n in rows:
                    yield notification_pb(n)
                if rows:
                    last_sent = loop.time()
                elif loop.time() - last_sent >= self.heartbeat:
                    last_sent = loop.time()
                    yield notify_pb2.Notification()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), self.watch_poll)

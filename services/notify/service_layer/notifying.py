"""Turn "tell these people about X" into inbox items plus one delivery per extra channel."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy import select

from services.notify.adapters.orm import Delivery, Notification, Recipient
from services.notify.domain.delivery import CREATED
from services.notify.domain.messages import message_type as lookup
from services.notify.domain.preferences import release_time
from services.notify.service_layer import preferences, templates
from servicekit.events import new_id

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The real clock (tests pass their own)."""
    return datetime.now(UTC)


async def notify(uow, *, event_id: str, user_ids: Iterable[str], message_type: str,  # noqa: ANN001
                 values: dict[str, str] | Callable[[str], dict[str, str]], report_id: str = "",
                 clock: Clock = utcnow) -> list[Notification]:
    """One inbox item per person (deduplicated per event) and deliveries on their chosen channels.

    `values` may depend on the recipient's language: pass a function language -> values.
    """
    kind = lookup(message_type)
    out = []
    for user_id in dict.fromkeys(u for u in user_ids if u):
        dedupe = f"{event_id}:{user_id}"
        if await uow.session.scalar(select(Notification.id).where(Notification.dedupe_key == dedupe)):
            continue
        prefs = await preferences.load(uow.session, user_id)
        vals = values(prefs.language) if callable(values) else values
        inbox = await templates.render(uow.session, message_type, "inbox", prefs.language, vals)
        now = clock()
        item = Notification(id=new_id(), user_id=user_id, type=message_type, title=inbox.subject, body=inbox.body,
                            report_id=report_id, dedupe_key=dedupe, created_at=now,
                            template_version=inbox.version, urgent=kind.urgent)
        uow.session.add(item)
        for channel in prefs.channels_for(kind.group):
            if channel == "inbox":
                continue
            text = await templates.render(uow.session, message_type, channel, prefs.language, vals)
            uow.session.add(Delivery(
                id=new_id(), notification_id=item.id, user_id=user_id, channel=channel, message_type=message_type,
                status=CREATED, subject=text.subject, body=text.body, template_version=text.version, attempts=0,
                not_before=release_time(now, prefs, channel=channel, urgent=kind.urgent),
                created_at=now, updated_at=now))
        out.append(item)
    return out


async def officers_of(session, *agency_codes: str) -> list[str]:  # noqa: ANN001
    """User ids of the officers and admins of the given agencies."""
    codes = [c for c in agency_codes if c]
    if not codes:
        return []
    q = select(Recipient.user_id).where(Recipient.agency_code.in_(codes),
                                        Recipient.role.in_(("officer", "agency_admin")))
    return list((await session.scalars(q.order_by(Recipient.user_id))).all())

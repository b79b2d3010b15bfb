"""Turn "tell these people about X" into inbox items plus one delivery per extra channel.

Consumers run this for every report event, so it costs a fixed number of statements per call
whatever the audience: one preferences query and one INSERT per table; templates and agencies'
officers come from short-lived per-process caches (see servicekit.cache).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.notify.adapters.orm import Delivery, Notification, Recipient
from services.notify.domain.delivery import CREATED
from services.notify.domain.messages import message_type as lookup
from services.notify.domain.preferences import release_time
from services.notify.service_layer import preferences, templates
from servicekit.cache import TtlCache
from servicekit.events import new_id

Clock = Callable[[], datetime]
OFFICER_ROLES = ("officer", "agency_admin")
OFFICERS_CACHE_SECONDS = 5.0
_officers = TtlCache(OFFICERS_CACHE_SECONDS)


def utcnow() -> datetime:
    """The real clock (tests pass their own)."""
    return datetime.now(UTC)


def dialect_insert(session):  # noqa: ANN001, ANN201
    """The INSERT construct with ON CONFLICT for the session's database (SQLite or PostgreSQL)."""
    return pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert


async def notify(uow, *, event_id: str, user_ids: Iterable[str], message_type: str,  # noqa: ANN001
                 values: dict[str, str] | Callable[[str], dict[str, str]], report_id: str = "",
                 clock: Clock = utcnow) -> list[str]:
    """One inbox item per person (deduplicated per event) and deliveries on their chosen channels.

    `values` may depend on the recipient's language: pass a function language -> values.
    Returns the ids of the new inbox items.
    """
    kind = lookup(message_type)
    keys = {u: f"{event_id}:{u}" for u in dict.fromkeys(u for u in user_ids if u)}
    people = list(keys)
    if not people:
        return []
    prefs_of = await preferences.load_many(uow.session, people)
    now = clock()
    items: list[dict] = []
    deliveries: list[dict] = []
    for user_id in people:
        prefs = prefs_of[user_id]
        vals = values(prefs.language) if callable(values) else values
        inbox = await templates.render(uow.session, message_type, "inbox", prefs.language, vals)
        item_id = new_id()
        items.append(dict(id=item_id, user_id=user_id, type=message_type, title=inbox.subject, body=inbox.body,
                          report_id=report_id, dedupe_key=keys[user_id], created_at=now,
                          template_version=inbox.version, urgent=kind.urgent))
        for channel in prefs.channels_for(kind.group):
            if channel == "inbox":
                continue
            text = await templates.render(uow.session, message_type, channel, prefs.language, vals)
            deliveries.append(dict(
                id=new_id(), notification_id=item_id, user_id=user_id, channel=channel, message_type=message_type,
                status=CREATED, subject=text.subject, body=text.body, template_version=text.version, attempts=0,
                not_before=release_time(now, prefs, channel=channel, urgent=kind.urgent),
                created_at=now, updated_at=now))
    # Core inserts (executemany), no ORM objects to flush one by one; the unique dedupe key skips
    # people this event already reached (a redelivery), and only their new items get deliveries
    table = Notification.__table__
    q = dialect_insert(uow.session)(table).on_conflict_do_nothing(index_elements=[table.c.dedupe_key])
    new = set((await uow.session.execute(q.returning(table.c.id), items)).scalars().all())
    if deliveries := [d for d in deliveries if d["notification_id"] in new]:
        await uow.session.execute(Delivery.__table__.insert(), deliveries)
    return [i["id"] for i in items if i["id"] in new]


async def _officers_of_agency(session, code: str) -> tuple[str, ...]:  # noqa: ANN001
    """User ids of one agency's officers and admins, cached for OFFICERS_CACHE_SECONDS."""
    async def load() -> tuple[str, ...]:
        q = select(Recipient.user_id).where(Recipient.agency_code == code, Recipient.role.in_(OFFICER_ROLES))
        return tuple((await session.scalars(q)).all())
    return await _officers.get(session, code, load)


async def officers_of(session, *agency_codes: str) -> list[str]:  # noqa: ANN001
    """User ids of the officers and admins of the given agencies.

    From a per-process cache: a role or agency change (user_registered, user_deleted) in this
    process drops it; other replicas see the change within OFFICERS_CACHE_SECONDS.
    """
    ids: set[str] = set()
    for code in dict.fromkeys(c for c in agency_codes if c):
        ids.update(await _officers_of_agency(session, code))
    return sorted(ids)


def forget_officers() -> None:
    """Drop this process's cached officers (after a recipient's role or agency may have changed)."""
    _officers.clear()

"""Turn "tell these people about X" into inbox items plus one delivery per extra channel.

Consumers run this for every report event, so it costs a fixed number of statements per call
whatever the audience: one preferences query and one INSERT per table, built once and run as Core
statements; templates and agencies' officers come from short-lived per-process caches (see
servicekit.cache), and each text is rendered once per channel and language, not per person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from services.notify.adapters.orm import Delivery, Notification, Recipient
from services.notify.domain.delivery import CREATED
from services.notify.domain.messages import message_type as lookup
from services.notify.domain.preferences import Preferences, release_time
from services.notify.service_layer import preferences, templates
from services.notify.service_layer.unit_of_work import core
from servicekit.cache import TtlCache
from servicekit.events import new_id

Clock = Callable[[], datetime]
OFFICER_ROLES = ("officer", "agency_admin")
OFFICERS_CACHE_SECONDS = 5.0
_officers = TtlCache(OFFICERS_CACHE_SECONDS)
_ITEMS, _DELIVERIES = Notification.__table__, Delivery.__table__
INSERTS = {"sqlite": sqlite_insert, "postgresql": pg_insert}   # INSERT with ON CONFLICT, per dialect
# the unique dedupe key skips people an event already reached (a redelivery)
_ADD_ITEMS = {name: insert(_ITEMS).on_conflict_do_nothing(index_elements=[_ITEMS.c.dedupe_key])
              .returning(_ITEMS.c.id) for name, insert in INSERTS.items()}
_ADD_DELIVERIES = _DELIVERIES.insert()
_OFFICERS = select(Recipient.agency_code, Recipient.user_id).where(
    Recipient.agency_code.in_(bindparam("codes", expanding=True)), Recipient.role.in_(OFFICER_ROLES))


def utcnow() -> datetime:
    """The real clock (tests pass their own)."""
    return datetime.now(UTC)


def dialect_name(session) -> str:  # noqa: ANN001
    """Which ON CONFLICT flavour the session's database speaks: "postgresql" or "sqlite"."""
    return "postgresql" if session.bind.dialect.name == "postgresql" else "sqlite"


Values = dict[str, str] | Callable[[str], dict[str, str]]


@dataclass(frozen=True)
class Notice:
    """Tell these people about X: the arguments of `notify`, for `notify_all`."""

    event_id: str
    user_ids: Iterable[str]
    message_type: str
    values: Values   # or a function language -> values
    report_id: str = ""


async def notify(uow, *, event_id: str, user_ids: Iterable[str], message_type: str,  # noqa: ANN001
                 values: Values, report_id: str = "", clock: Clock = utcnow) -> list[str]:
    """One inbox item per person (deduplicated per event) and deliveries on their chosen channels.

    `values` may depend on the recipient's language: pass a function language -> values.
    Returns the ids of the new inbox items.
    """
    return await notify_all(uow, [Notice(event_id, user_ids, message_type, values, report_id)], clock=clock)


async def notify_all(uow, notices: list[Notice], *, clock: Clock = utcnow) -> list[str]:  # noqa: ANN001
    """`notify` for several notices at once (an event's reporter and the agency's officers, or a
    consumer's whole batch): one preferences query and one INSERT per table for all of them."""
    audiences = [(n, {u: f"{n.event_id}:{u}" for u in dict.fromkeys(u for u in n.user_ids if u)})
                 for n in notices]
    people = list(dict.fromkeys(u for _, keys in audiences for u in keys))
    if not people:
        return []
    prefs_of = await preferences.load_many(uow.session, people)
    texts = await templates.current_texts(uow.session)
    items: list[dict] = []
    deliveries: list[dict] = []
    for notice, keys in audiences:
        _rows(notice, keys, prefs_of, texts, clock(), items, deliveries)
    # Core inserts (executemany), no ORM objects to flush one by one; only the people this event
    # had not reached yet get deliveries
    conn = await core(uow.session)
    new = set((await conn.execute(_ADD_ITEMS[dialect_name(uow.session)], items)).scalars().all())
    if deliveries := [d for d in deliveries if d["notification_id"] in new]:
        await conn.execute(_ADD_DELIVERIES, deliveries)
    added = [i for i in items if i["id"] in new]
    uow.note_inbox(i["user_id"] for i in added)   # their live streams check once this commits
    return [i["id"] for i in added]


def _rows(notice: Notice, keys: dict[str, str], prefs_of: dict[str, Preferences],
          texts: dict[tuple[str, str, str], templates.Text], now: datetime,
          items: list[dict], deliveries: list[dict]) -> None:
    """Append the inbox items (user -> dedupe key in `keys`) and deliveries of one notice."""
    kind, values, message_type = lookup(notice.message_type), notice.values, notice.message_type
    rendered: dict[tuple[str, str], templates.Rendered] = {}   # (channel, language) -> text

    def text(channel: str, language: str) -> templates.Rendered:
        # `values` depends on the language only, so everyone with one language gets the same text
        if (channel, language) not in rendered:
            vals = values(language) if callable(values) else values
            rendered[channel, language] = templates.fill(
                templates.pick(texts, message_type, channel, language), vals)
        return rendered[channel, language]

    for user_id, dedupe_key in keys.items():
        prefs = prefs_of[user_id]
        inbox = text("inbox", prefs.language)
        item_id = new_id()
        items.append(dict(id=item_id, user_id=user_id, type=message_type, title=inbox.subject, body=inbox.body,
                          report_id=notice.report_id, dedupe_key=dedupe_key, created_at=now,
                          template_version=inbox.version, urgent=kind.urgent))
        for channel in prefs.channels_for(kind.group):
            if channel == "inbox":
                continue
            out = text(channel, prefs.language)
            deliveries.append(dict(
                id=new_id(), notification_id=item_id, user_id=user_id, channel=channel, message_type=message_type,
                status=CREATED, subject=out.subject, body=out.body, template_version=out.version, attempts=0,
                not_before=release_time(now, prefs, channel=channel, urgent=kind.urgent),
                created_at=now, updated_at=now))


async def officers_by_agency(session, agency_codes: Iterable[str]) -> dict[str, tuple[str, ...]]:  # noqa: ANN001
    """Agency code -> user ids of its officers and admins, cached per agency for OFFICERS_CACHE_SECONDS.

    The agencies the cache misses are loaded together, with one query for all of them.
    """
    codes = list(dict.fromkeys(c for c in agency_codes if c))
    loaded: dict[str, list[str]] = {}

    async def load(code: str) -> tuple[str, ...]:
        if not loaded:   # the first miss loads every agency asked for
            loaded.update((c, []) for c in codes)
            for row in (await (await core(session)).execute(_OFFICERS, {"codes": codes})).all():
                loaded[row.agency_code].append(row.user_id)
        return tuple(loaded[code])

    return {code: await _officers.get(session, code, partial(load, code)) for code in codes}


async def officers_of(session, *agency_codes: str) -> list[str]:  # noqa: ANN001
    """User ids of the officers and admins of the given agencies.

    From a per-process cache: a role or agency change (user_registered, user_deleted) in this
    process drops it; other replicas see the change within OFFICERS_CACHE_SECONDS.
    """
    by_agency = await officers_by_agency(session, agency_codes)
    return sorted({user_id for ids in by_agency.values() for user_id in ids})


def forget_officers() -> None:
    """Drop this process's cached officers (after a recipient's role or agency may have changed)."""
    _officers.clear()

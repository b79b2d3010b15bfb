"""Announcements: publish, fan out to inbox items in bulk, list the public feed.

Fan-out is built for a million recipients: each chunk is one `INSERT ... SELECT` from the
recipient projection (keyset-paginated by user_id, so no OFFSET scans) in its own short
transaction, which also advances the announcement's resume point; a crash resumes after the
last committed chunk and the unique dedupe key makes a replayed chunk harmless.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, case, cast, func, literal, or_, select, true, update

from services.notify.adapters.orm import Announcement, Notification, Recipient
from services.notify.domain.errors import AnnouncementInvalid, AnnouncementScope
from services.notify.service_layer.notifying import Clock, utcnow
from servicekit.auth import Principal
from servicekit.events import new_id
from servicekit.sqlite_inline import offloaded

WARD = re.compile(r"^\d{5}$")
PENDING, DONE = "pending", "done"


@dataclass(frozen=True)
class PublishAnnouncement:
    """The command."""

    title_vi: str
    title_en: str
    body_vi: str
    body_en: str
    urgent: bool = False
    ward_codes: tuple[str, ...] = ()
    expires_at: datetime | None = None
    idempotency_key: str = ""


def check_scope(cmd: PublishAnnouncement, caller: Principal) -> None:
    """Operators announce anywhere; a ward committee admin (agency ubnd_<ward>) only to that ward."""
    if caller.role == "operator":
        return
    own = caller.agency_code.removeprefix("ubnd_")
    if caller.role == "agency_admin" and caller.agency_code.startswith("ubnd_") and cmd.ward_codes == (own,):
        return
    raise AnnouncementScope("ward committees announce to their own ward only")


def check(cmd: PublishAnnouncement, now: datetime) -> None:
    """Both languages, sane lengths, 5-digit wards, expiry in the future."""
    if not all(1 <= len(t.strip()) <= 200 for t in (cmd.title_vi, cmd.title_en)):
        raise AnnouncementInvalid("title vi and en, 1-200 characters", field="title")
    if not all(1 <= len(b.strip()) <= 5000 for b in (cmd.body_vi, cmd.body_en)):
        raise AnnouncementInvalid("body vi and en, 1-5000 characters", field="body")
    if len(cmd.ward_codes) > 200 or not all(WARD.match(w) for w in cmd.ward_codes):
        raise AnnouncementInvalid("ward codes are 5 digits (at most 200)", field="ward_codes")
    if cmd.expires_at is not None and cmd.expires_at <= now:
        raise AnnouncementInvalid("expiry must be in the future", field="expires_at")


async def publish(uow, cmd: PublishAnnouncement, caller: Principal, *, clock: Clock = utcnow) -> Announcement:  # noqa: ANN001
    """Store the announcement (fan-out happens in the background); same key returns the same one."""
    now = clock()
    check_scope(cmd, caller)
    check(cmd, now)
    if cmd.idempotency_key:
        found = (await uow.session.scalars(select(Announcement).where(
            Announcement.created_by == caller.user_id, Announcement.idempotency_key == cmd.idempotency_key))).first()
        if found:
            return found
    row = Announcement(id=new_id(), title_vi=cmd.title_vi, title_en=cmd.title_en, body_vi=cmd.body_vi,
                       body_en=cmd.body_en, urgent=cmd.urgent, ward_codes=",".join(sorted(set(cmd.ward_codes))),
                       created_by=caller.user_id, idempotency_key=cmd.idempotency_key, published_at=now,
                       expires_at=cmd.expires_at, fanout_status=PENDING, fanout_after="", recipients=0)
    uow.session.add(row)
    await uow.commit()
    return row


def _audience(ann: Announcement):  # noqa: ANN202
    """The recipients an announcement targets (residents of its wards, or everyone)."""
    wards = [w for w in ann.ward_codes.split(",") if w]
    return Recipient.home_ward_code.in_(wards) if wards else true()


def _item_id(prefix_id: str, seq):  # noqa: ANN001, ANN202
    """SQL for a per-recipient inbox id: a UUIDv7's prefix + a 12-digit sequence, unique and sorting
    by that UUID's time (portable: SQLite and PostgreSQL).

    The prefix is made when the chunk is written, not taken from the announcement: a chunk may
    commit minutes after publication, and live streams only look LOOKBACK_SECONDS back for items
    that commit below their position (service_layer.live).
    """
    digits = func.substr(literal("000000000000") + cast(seq, String), func.length(cast(seq, String)) + 1, 12)
    return literal(prefix_id[:24]) + digits


async def fan_out_chunk(uow, ann: Announcement, chunk: int) -> int:  # noqa: ANN001
    """Write the next `chunk` inbox items with one INSERT ... SELECT; returns how many.

    On SQLite the INSERT and the commit run on a worker thread (`offloaded`): inline, their tens of
    milliseconds would stall every inbox request of the process once per chunk, for the whole fan-out.
    The short statements stay inline (each hand-over to the thread costs a loop wake-up)."""
    after = ann.fanout_after
    bound_q = (select(Recipient.user_id).where(_audience(ann), Recipient.user_id > after)
               .order_by(Recipient.user_id).offset(chunk - 1).limit(1))
    upper = await uow.session.scalar(bound_q)
    window = and_(_audience(ann), Recipient.user_id > after, *([Recipient.user_id <= upper] if upper else []))
    seq = ann.recipients + func.row_number().over(order_by=Recipient.user_id)
    english = Recipient.language == "en"
    rows = (select(_item_id(new_id(), seq), Recipient.user_id, literal("announcement"),
                   case((english, ann.title_en), else_=ann.title_vi), case((english, ann.body_en), else_=ann.body_vi),
                   literal(""), literal(f"ann:{ann.id}:") + Recipient.user_id, literal(ann.published_at),
                   literal(0), literal(ann.id), literal(ann.urgent))
            .where(window))
    cols = ["id", "user_id", "type", "title", "body", "report_id", "dedupe_key", "created_at", "template_version",
            "announcement_id", "urgent"]
    async with offloaded(uow.session):
        result = await uow.session.execute(Notification.__table__.insert().from_select(cols, rows))
    written = result.rowcount if result.rowcount and result.rowcount > 0 else 0
    last = upper or await uow.session.scalar(
        select(func.max(Recipient.user_id)).where(_audience(ann), Recipient.user_id > after))
    await uow.session.execute(update(Announcement).where(Announcement.id == ann.id).values(
        fanout_after=last or after, recipients=Announcement.recipients + written,
        fanout_status=PENDING if upper else DONE))
    async with offloaded(uow.session):
        await uow.commit()
    return written


async def fan_out_pending(uow_factory, *, chunk: int = 5000) -> int:  # noqa: ANN001
    """Finish every pending announcement's fan-out, one chunk per transaction; returns items written."""
    total = 0
    while True:
        async with uow_factory() as uow:
            ann = (await uow.session.scalars(select(Announcement).where(Announcement.fanout_status == PENDING)
                                             .order_by(Announcement.id).limit(1))).first()
            if ann is None:
                return total
            total += await fan_out_chunk(uow, ann, chunk)


def feed_query(*, ward_code: str, include_expired: bool, now: datetime, cursor: str, limit: int):  # noqa: ANN201
    """Newest first; a ward sees city-wide announcements and those naming it."""
    q = select(Announcement).order_by(Announcement.id.desc()).limit(limit + 1)
    if ward_code:
        q = q.where(or_(Announcement.ward_codes == "", Announcement.ward_codes.contains(ward_code)))
    if not include_expired:
        q = q.where(or_(Announcement.expires_at.is_(None), Announcement.expires_at > now))
    if cursor:
        q = q.where(Announcement.id < cursor)
    return q

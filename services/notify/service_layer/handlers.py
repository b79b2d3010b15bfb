"""Notify consumers: the recipient projection and who hears what about reports and deadlines.

Each handler runs inside the consumer's unit of work (effect + inbox row in one commit). The
`..._batch` handlers apply a fetched batch of report events with a few statements for all of it
(one round trip per statement matters on PostgreSQL) and have the effect of the per-event handler
applied to each event in order.
"""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, delete, select, update

from congdanso.identity.v1 import events_pb2 as identity_events
from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from congdanso.routing.v1 import events_pb2 as routing_events
from services.notify.adapters.orm import Delivery, Follower, Notification, Preference, Recipient, TrackedReport
from services.notify.service_layer.notifying import (
    INSERTS, Clock, Notice, Values, dialect_name, forget_officers, notify, notify_all, officers_by_agency,
    officers_of, utcnow,
)
from services.notify.service_layer.unit_of_work import core
from servicekit.inbox import consuming

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STATUS_KEYS = {v: k.removeprefix("REPORT_STATUS_").lower() for k, v in reports_pb2.ReportStatus.items()}
STATUS_NAMES = {
    "vi": {"submitted": "đã gửi", "assigned": "đã phân công", "in_progress": "đang xử lý", "resolved": "đã xử lý",
           "closed": "đã đóng", "rejected": "bị từ chối", "withdrawn": "đã rút"},
    "en": {"submitted": "submitted", "assigned": "assigned", "in_progress": "in progress", "resolved": "resolved",
           "closed": "closed", "rejected": "rejected", "withdrawn": "withdrawn"},
}
_FOLLOWERS = select(Follower.user_id).where(Follower.report_id == bindparam("report_id"))
_FOLLOWERS_OF = select(Follower.report_id, Follower.user_id).where(
    Follower.report_id.in_(bindparam("ids", expanding=True)))
_TRACK: dict[tuple[str, tuple[str, ...]], object] = {}   # (dialect, fields updated) -> upsert statement
_TRACK_MANY: dict[str, object] = {}                     # dialect -> upsert statement of the batch handlers
RESIDENT_TYPES = {"assigned": "report_assigned", "in_progress": "report_acknowledged", "resolved": "report_resolved",
                  "closed": "report_closed", "rejected": "report_rejected"}


def short(report_id: str) -> str:
    """The short form of a report id shown in messages."""
    return report_id[-8:]


def local_time(ts) -> str:  # noqa: ANN001
    """A protobuf Timestamp as HH:MM dd/mm/yyyy in Ho Chi Minh City, '-' when unset."""
    if not ts.seconds and not ts.nanos:
        return "-"
    return ts.ToDatetime(UTC).astimezone(TZ).strftime("%H:%M %d/%m/%Y")


async def project_user(event, uow) -> None:  # noqa: ANN001
    """identity.v1.user_registered: remember language, role, agency and home ward."""
    msg = event.parse(identity_events.UserRegistered)
    row = await uow.session.get(Recipient, msg.user_id) or Recipient(user_id=msg.user_id)
    row.language, row.role = msg.language or "vi", msg.role or "citizen"
    row.agency_code, row.home_ward_code = msg.agency_code, msg.home_ward_code
    uow.session.add(row)
    forget_officers()


async def erase_user(event, uow) -> None:  # noqa: ANN001
    """identity.v1.user_deleted: erase everything notify holds about the person."""
    user_id = event.parse(identity_events.UserDeleted).user_id
    for table in (Notification, Delivery, Follower, Preference, Recipient):
        await uow.session.execute(delete(table).where(table.user_id == user_id))
    await uow.session.execute(update(TrackedReport).where(TrackedReport.reporter_id == user_id)
                              .values(reporter_id=""))
    forget_officers()


def _track_statement(dialect: str, fields: tuple[str, ...]):  # noqa: ANN202
    """INSERT ... ON CONFLICT DO UPDATE of `fields` ... RETURNING, built once per dialect and fields."""
    key = (dialect, fields)
    if key not in _TRACK:
        q = INSERTS[dialect](TrackedReport.__table__)
        changes = {k: q.excluded[k] for k in fields} or {"report_id": q.excluded.report_id}
        _TRACK[key] = (q.on_conflict_do_update(index_elements=[TrackedReport.report_id], set_=changes)
                       .returning(TrackedReport.reporter_id, TrackedReport.agency_code))
    return _TRACK[key]


async def _track(uow, report_id: str, **fields: str):  # noqa: ANN001, ANN202
    """Record what notify knows of a report (non-empty fields only); returns (reporter_id, agency_code).

    One upsert statement rather than a load and a flush: it runs for most report events.
    """
    given = {k: v for k, v in fields.items() if v}
    q = _track_statement(dialect_name(uow.session), tuple(given))
    row = {"report_id": report_id, "reporter_id": "", "agency_code": "", **given}
    return (await (await core(uow.session)).execute(q, row)).one()


def _track_many_statement(dialect: str):  # noqa: ANN202
    """INSERT ... ON CONFLICT DO UPDATE of the non-empty values ... RETURNING: `_track` for many rows
    whatever fields each one has, built once per dialect."""
    if dialect not in _TRACK_MANY:
        table = TrackedReport.__table__
        q = INSERTS[dialect](table)
        keep = {k: case((q.excluded[k] == "", table.c[k]), else_=q.excluded[k])
                for k in ("reporter_id", "agency_code")}
        _TRACK_MANY[dialect] = (q.on_conflict_do_update(index_elements=[table.c.report_id], set_=keep)
                                .returning(table.c.report_id, table.c.reporter_id))
    return _TRACK_MANY[dialect]


async def _track_many(uow, changes: list[tuple[str, dict[str, str]]]) -> list[str] | None:  # noqa: ANN001
    """`_track` for each (report id, fields) in order with one upsert; the reporter each call would return.

    None, with nothing written, when that is the reporter stored before the batch although a later
    event of the batch changes it (the upsert returns only the final rows): apply one by one then.
    """
    merged: dict[str, dict[str, str]] = {}
    known: list[str | None] = []   # the reporter as of each call; None: the stored one
    for report_id, fields in changes:
        given = merged.setdefault(report_id, {})
        given.update((k, v) for k, v in fields.items() if v)
        known.append(given.get("reporter_id"))
    if any(r is None and "reporter_id" in merged[report_id] for (report_id, _), r in zip(changes, known)):
        return None
    # in report id order: concurrent batches (the submitted and status consumers) lock rows in one order
    rows = [{"report_id": r, "reporter_id": "", "agency_code": "", **given} for r, given in sorted(merged.items())]
    conn = await core(uow.session)
    stored = dict((await conn.execute(_track_many_statement(dialect_name(uow.session)), rows)).all())
    return [stored[report_id] if r is None else r for (report_id, _), r in zip(changes, known)]


async def _followers_of(uow, report_ids: list[str]) -> dict[str, list[str]]:  # noqa: ANN001
    """Report id -> its followers, for many reports with one query."""
    found: dict[str, list[str]] = {}
    if report_ids:
        conn = await core(uow.session)
        for row in (await conn.execute(_FOLLOWERS_OF, {"ids": list(dict.fromkeys(report_ids))})).all():
            found.setdefault(row.report_id, []).append(row.user_id)
    return found


async def _one_by_one(handler, events, uow, clock: Clock) -> None:  # noqa: ANN001
    """The per-event handler on each event, as the consumer runs it without a batch handler."""
    for event in events:
        with consuming(event, batch=len(events)):
            await handler(event, uow, clock=clock)


async def _audience(uow, report_id: str, reporter_id: str) -> list[str]:  # noqa: ANN001
    """The reporter and the report's followers."""
    conn = await core(uow.session)
    followers = (await conn.execute(_FOLLOWERS, {"report_id": report_id})).scalars().all()
    return [reporter_id, *followers]


async def on_report_submitted(event, uow, clock: Clock = utcnow) -> None:  # noqa: ANN001
    """Tell the reporter their report arrived."""
    msg = event.parse(reports_events.ReportSubmitted)
    await _track(uow, msg.report_id, reporter_id=msg.reporter_id)
    await notify(uow, event_id=event.id, user_ids=[msg.reporter_id], message_type="report_submitted",
                 report_id=msg.report_id, values={"short_id": short(msg.report_id)}, clock=clock)


async def on_report_submitted_batch(events, uow, clock: Clock = utcnow) -> None:  # noqa: ANN001
    """`on_report_submitted` for a fetched batch: one upsert and one `notify_all` for all of it."""
    msgs = [e.parse(reports_events.ReportSubmitted) for e in events]
    if await _track_many(uow, [(m.report_id, {"reporter_id": m.reporter_id}) for m in msgs]) is None:
        await _one_by_one(on_report_submitted, events, uow, clock)
        return
    notices = []
    for event, msg in zip(events, msgs):
        with consuming(event, batch=len(events)):
            notices.append(Notice(event.id, [msg.reporter_id], "report_submitted",
                                  {"short_id": short(msg.report_id)}, msg.report_id))
    await notify_all(uow, notices, clock=clock)


def _status_plan(msg) -> tuple[str, str, Values]:  # noqa: ANN001
    """Who hears of a status change: the reporter and followers' message type ("": nobody), the
    agency officers' ("": nobody), and the values per language."""
    status, previous = STATUS_KEYS.get(msg.to_status, ""), STATUS_KEYS.get(msg.from_status, "")
    due = local_time(msg.resolve_due_at)

    def values(language: str) -> dict[str, str]:
        agency = (msg.agency_name.en if language == "en" else msg.agency_name.vi) or msg.agency_code
        return {"short_id": short(msg.report_id), "status": STATUS_NAMES[language].get(status, status),
                "agency_name": agency, "due": due, "note": msg.note or "-", "reason": msg.note or "-"}

    resident = "" if status == "withdrawn" else RESIDENT_TYPES.get(status, "report_status_changed")
    agency = ""
    if status == "assigned":
        agency = "agency_report_reopened" if previous == "resolved" else "agency_new_assignment"
    return resident, agency, values


async def on_status_changed(event, uow, clock: Clock = utcnow) -> None:  # noqa: ANN001
    """Tell the reporter and followers; tell the agency's officers of new work and reopenings."""
    msg = event.parse(reports_events.ReportStatusChanged)
    report = await _track(uow, msg.report_id, reporter_id=msg.reporter_id, agency_code=msg.agency_code)
    resident, agency, values = _status_plan(msg)
    notices = []   # one write for both audiences
    if resident:
        notices.append(Notice(event.id, await _audience(uow, msg.report_id, report.reporter_id), resident, values,
                              msg.report_id))
    if agency:
        notices.append(Notice(f"{event.id}:agency", await officers_of(uow.session, msg.agency_code), agency, values,
                              msg.report_id))
    await notify_all(uow, notices, clock=clock)


async def on_status_changed_batch(events, uow, clock: Clock = utcnow) -> None:  # noqa: ANN001
    """`on_status_changed` for a fetched batch: one upsert, one followers query, the officers of all
    its agencies at once (cached) and one `notify_all`."""
    msgs = [e.parse(reports_events.ReportStatusChanged) for e in events]
    reporters = await _track_many(uow, [(m.report_id, {"reporter_id": m.reporter_id, "agency_code": m.agency_code})
                                        for m in msgs])
    if reporters is None:
        await _one_by_one(on_status_changed, events, uow, clock)
        return
    plans = [_status_plan(m) for m in msgs]
    followers = await _followers_of(uow, [m.report_id for m, (resident, _, _) in zip(msgs, plans) if resident])
    officers = await officers_by_agency(uow.session, [m.agency_code for m, (_, agency, _) in zip(msgs, plans)
                                                      if agency])
    notices = []
    for event, msg, reporter, (resident, agency, values) in zip(events, msgs, reporters, plans):
        with consuming(event, batch=len(events)):
            if resident:
                notices.append(Notice(event.id, [reporter, *followers.get(msg.report_id, ())], resident, values,
                                      msg.report_id))
            if agency:
                notices.append(Notice(f"{event.id}:agency", sorted(officers.get(msg.agency_code, ())), agency,
                                      values, msg.report_id))
    await notify_all(uow, notices, clock=clock)


async def on_report_activity(event, uow, clock: Clock = utcnow) -> None:  # noqa: ANN001
    """report_followed / report_commented / report_merged."""
    if event.subject.endswith("report_followed"):
        msg = event.parse(reports_events.ReportFollowed)
        if not await uow.session.get(Follower, (msg.report_id, msg.user_id)):
            uow.session.add(Follower(report_id=msg.report_id, user_id=msg.user_id))
        return
    if event.subject.endswith("report_commented"):
        msg = event.parse(reports_events.ReportCommented)
        report = await _track(uow, msg.report_id)
        values = {"short_id": short(msg.report_id)}
        if msg.author_role == "citizen":
            await notify(uow, event_id=event.id, user_ids=await officers_of(uow.session, report.agency_code),
                         message_type="agency_report_commented", report_id=msg.report_id, values=values, clock=clock)
        elif not msg.internal:
            await notify(uow, event_id=event.id, user_ids=await _audience(uow, msg.report_id, report.reporter_id),
                         message_type="report_commented", report_id=msg.report_id, values=values, clock=clock)
        return
    if event.subject.endswith("report_merged"):
        msg = event.parse(reports_events.ReportMerged)
        report = await _track(uow, msg.report_id)
        await notify(uow, event_id=event.id, user_ids=await _audience(uow, msg.report_id, report.reporter_id),
                     message_type="report_merged", report_id=msg.report_id, clock=clock,
                     values={"short_id": short(msg.report_id), "parent_short_id": short(msg.parent_report_id)})


async def on_deadline(event, uow, clock: Clock = utcnow) -> None:  # noqa: ANN001
    """routing.v1.sla_warning -> the agency's officers; report_escalated -> them and the parent agency's."""
    if event.subject.endswith("sla_warning"):
        msg = event.parse(routing_events.SlaWarning)
        await notify(uow, event_id=event.id, user_ids=await officers_of(uow.session, msg.agency_code),
                     message_type="sla_warning", report_id=msg.report_id, clock=clock,
                     values={"short_id": short(msg.report_id), "deadline": msg.deadline, "due": local_time(msg.due_at)})
        return
    msg = event.parse(routing_events.ReportEscalated)
    await notify(uow, event_id=event.id, message_type="report_escalated", report_id=msg.report_id, clock=clock,
                 user_ids=await officers_of(uow.session, msg.agency_code, msg.escalated_to_agency_code),
                 values={"short_id": short(msg.report_id), "deadline": msg.deadline, "due": local_time(msg.due_at),
                         "agency_code": msg.escalated_to_agency_code or "-"})

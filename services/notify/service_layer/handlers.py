"""Notify consumers: the recipient projection and who hears what about reports and deadlines.

Each handler runs inside the consumer's unit of work (effect + inbox row in one commit).
"""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, delete, select, update

from congdanso.identity.v1 import events_pb2 as identity_events
from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from congdanso.routing.v1 import events_pb2 as routing_events
from services.notify.adapters.orm import Delivery, Follower, Notification, Preference, Recipient, TrackedReport
from services.notify.service_layer.notifying import (
    INSERTS, Clock, Notice, dialect_name, forget_officers, notify, notify_all, officers_of, utcnow,
)
from services.notify.service_layer.unit_of_work import core

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STATUS_KEYS = {v: k.removeprefix("REPORT_STATUS_").lower() for k, v in reports_pb2.ReportStatus.items()}
STATUS_NAMES = {
    "vi": {"submitted": "đã gửi", "assigned": "đã phân công", "in_progress": "đang xử lý", "resolved": "đã xử lý",
           "closed": "đã đóng", "rejected": "bị từ chối", "withdrawn": "đã rút"},
    "en": {"submitted": "submitted", "assigned": "assigned", "in_progress": "in progress", "resolved": "resolved",
           "closed": "closed", "rejected": "rejected", "withdrawn": "withdrawn"},
}
_FOLLOWERS = select(Follower.user_id).where(Follower.report_id == bindparam("report_id"))
_TRACK: dict[tuple[str, tuple[str, ...]], object] = {}   # (dialect, fields updated) -> upsert statement
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


async def on_status_changed(event, uow, clock: Clock = utcnow) -> None:  # noqa: ANN001
    """Tell the reporter and followers; tell the agency's officers of new work and reopenings."""
    msg = event.parse(reports_events.ReportStatusChanged)
    report = await _track(uow, msg.report_id, reporter_id=msg.reporter_id, agency_code=msg.agency_code)
    status, previous = STATUS_KEYS.get(msg.to_status, ""), STATUS_KEYS.get(msg.from_status, "")
    due = local_time(msg.resolve_due_at)

    def values(language: str) -> dict[str, str]:
        agency = (msg.agency_name.en if language == "en" else msg.agency_name.vi) or msg.agency_code
        return {"short_id": short(msg.report_id), "status": STATUS_NAMES[language].get(status, status),
                "agency_name": agency, "due": due, "note": msg.note or "-", "reason": msg.note or "-"}

    notices = []   # one write for both audiences
    if status != "withdrawn":
        notices.append(Notice(event.id, await _audience(uow, msg.report_id, report.reporter_id),
                              RESIDENT_TYPES.get(status, "report_status_changed"), values, msg.report_id))
    if status == "assigned":
        kind = "agency_report_reopened" if previous == "resolved" else "agency_new_assignment"
        notices.append(Notice(f"{event.id}:agency", await officers_of(uow.session, msg.agency_code), kind, values,
                              msg.report_id))
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

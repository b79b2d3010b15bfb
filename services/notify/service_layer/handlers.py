"""Notify consumers: keep the recipient projection and write inbox items for report events."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from congdanso.identity.v1 import events_pb2 as identity_events
from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from services.notify.adapters.orm import Notification, Recipient
from services.notify.domain.templates import STATUS_NAMES, render
from servicekit.events import new_id

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STATUS_KEYS = {v: k.removeprefix("REPORT_STATUS_").lower() for k, v in reports_pb2.ReportStatus.items()}


async def project_user(event, uow) -> None:  # noqa: ANN001
    """identity.v1.user_registered: remember language, role and agency."""
    msg = event.parse(identity_events.UserRegistered)
    row = await uow.session.get(Recipient, msg.user_id) or Recipient(user_id=msg.user_id)
    row.language, row.role = msg.language or "vi", msg.role or "citizen"
    row.agency_code, row.home_ward_code = msg.agency_code, msg.home_ward_code
    uow.session.add(row)


async def _language(uow, user_id: str) -> str:  # noqa: ANN001
    row = await uow.session.get(Recipient, user_id)
    return row.language if row else "vi"


async def _notify(uow, *, event_id: str, user_id: str, message_type: str, report_id: str,  # noqa: ANN001
                  values: dict[str, str]) -> None:
    """Render in the recipient's language and add one inbox item (deduplicated per event)."""
    language = await _language(uow, user_id)
    title, body = render(message_type, language, values)
    uow.session.add(Notification(
        id=new_id(), user_id=user_id, type=message_type, title=title, body=body, report_id=report_id,
        dedupe_key=f"{event_id}:{user_id}", created_at=datetime.now(UTC)))


async def on_report_submitted(event, uow) -> None:  # noqa: ANN001
    """Tell the reporter their report arrived."""
    msg = event.parse(reports_events.ReportSubmitted)
    await _notify(uow, event_id=event.id, user_id=msg.reporter_id, message_type="report_submitted",
                  report_id=msg.report_id, values={"short_id": msg.report_id[-8:]})


async def on_status_changed(event, uow) -> None:  # noqa: ANN001
    """Tell the reporter what happened to their report."""
    msg = event.parse(reports_events.ReportStatusChanged)
    status = STATUS_KEYS.get(msg.to_status, "")
    language = await _language(uow, msg.reporter_id)
    values = {"short_id": msg.report_id[-8:], "status": STATUS_NAMES[language].get(status, status)}
    message_type = "report_status_changed"
    if status == "assigned":
        message_type = "report_assigned"
        values["agency_name"] = (msg.agency_name.en if language == "en" else msg.agency_name.vi) or msg.agency_code
        due = msg.resolve_due_at.ToDatetime(UTC).astimezone(TZ) if msg.HasField("resolve_due_at") else None
        values["due"] = due.strftime("%H:%M %d/%m/%Y") if due else "-"
    await _notify(uow, event_id=event.id, user_id=msg.reporter_id, message_type=message_type,
                  report_id=msg.report_id, values=values)

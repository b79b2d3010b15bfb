"""Agencies and the city's working-calendar decisions (operators write, everyone reads)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import holidays
from sqlalchemy import select

from services.routing.adapters.orm import Agency, CalendarDay
from services.routing.domain import errors
from services.routing.service_layer import reference
from services.routing.seed_data import AGENCY_KINDS

AGENCY_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
IOC = "ioc"


@dataclass(frozen=True)
class AgencyDraft:
    """The writable fields of an agency."""

    code: str
    name_vi: str
    name_en: str
    kind: str
    parent_code: str | None = None
    ward_code: str | None = None
    active: bool = True
    contact: str = ""


async def _check_parent(session, code: str, parent_code: str | None) -> None:  # noqa: ANN001
    """The parent exists and is not the agency itself or one of its descendants."""
    seen = {code}
    cursor = parent_code
    while cursor:
        if cursor in seen:
            raise errors.InvalidAgency("the parent chain would loop", field="parent_code")
        parent = await session.get(Agency, cursor)
        if parent is None:
            raise errors.InvalidAgency(f"unknown parent agency {cursor}", field="parent_code")
        seen.add(cursor)
        cursor = parent.parent_code


async def _validate(session, d: AgencyDraft) -> None:  # noqa: ANN001
    """Field checks; the operations centre stays the active root."""
    if not AGENCY_CODE.match(d.code):
        raise errors.InvalidAgency("code: 2-40 of a-z, 0-9 and '_', starting with a letter", field="code")
    if d.kind not in AGENCY_KINDS:
        raise errors.InvalidAgency(f"kind must be one of {', '.join(AGENCY_KINDS)}", field="kind")
    for name, value in (("name.vi", d.name_vi), ("name.en", d.name_en)):
        if not 1 <= len(value.strip()) <= 200:
            raise errors.InvalidAgency("a name of 1 to 200 characters is required", field=name)
    if d.ward_code and not re.match(r"^\d{5}$", d.ward_code):
        raise errors.InvalidAgency("ward code must be 5 digits", field="ward_code")
    if len(d.contact) > 200:
        raise errors.InvalidAgency("contact is at most 200 characters", field="contact")
    if d.code == IOC and (d.parent_code or not d.active):
        raise errors.InvalidAgency("the operations centre is the active root of all agencies", field="parent_code")
    await _check_parent(session, d.code, d.parent_code)


def _apply(row: Agency, d: AgencyDraft) -> None:
    row.name_vi, row.name_en, row.kind = d.name_vi.strip(), d.name_en.strip(), d.kind
    row.parent_code, row.ward_code = d.parent_code or None, d.ward_code or None
    row.active, row.contact = d.active, d.contact


async def create_agency(uow, draft: AgencyDraft) -> Agency:  # noqa: ANN001
    """Add an agency; its code must be new."""
    if await uow.session.get(Agency, draft.code) is not None:
        raise errors.AgencyExists(f"agency {draft.code} exists")
    await _validate(uow.session, draft)
    row = Agency(code=draft.code)
    _apply(row, draft)
    uow.session.add(row)
    await uow.commit()
    reference.forget_cached()
    return row


async def update_agency(uow, draft: AgencyDraft) -> Agency:  # noqa: ANN001
    """Replace an agency's writable fields (names, kind, parent, ward, active flag, contact)."""
    row = await uow.session.get(Agency, draft.code, with_for_update=True)
    if row is None:
        raise errors.AgencyNotFound(f"no agency {draft.code}")
    await _validate(uow.session, draft)
    _apply(row, draft)
    await uow.commit()
    reference.forget_cached()
    return row


def parse_day(value: str) -> date:
    """A YYYY-MM-DD day between 2000 and 2100."""
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise errors.InvalidCalendarDay("day must be YYYY-MM-DD", field="day") from exc
    if not 2000 <= day.year <= 2100:
        raise errors.InvalidCalendarDay("day must be between 2000 and 2100", field="day")
    return day


async def list_calendar(session, year: int) -> tuple[list[CalendarDay], list[tuple[date, str]]]:  # noqa: ANN001
    """The city's decisions in `year` and Vietnam's public holidays that year."""
    if not 2000 <= year <= 2100:
        raise errors.InvalidCalendarDay("year must be between 2000 and 2100", field="year")
    rows = (await session.scalars(select(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31)).order_by(CalendarDay.day))).all()
    public = sorted(holidays.country_holidays("VN", years=year, language="en_US").items())
    return list(rows), public


async def set_calendar_day(uow, *, day: str, working: bool, note: str) -> CalendarDay:  # noqa: ANN001
    """Record (or change) a make-up working day or an extra day off; future deadlines use it."""
    parsed = parse_day(day)
    if len(note) > 200:
        raise errors.InvalidCalendarDay("note is at most 200 characters", field="note")
    row = await uow.session.get(CalendarDay, parsed, with_for_update=True)
    if row is None:
        row = CalendarDay(day=parsed)
        uow.session.add(row)
    row.working, row.note = working, note.strip()
    await uow.commit()
    reference.forget_cached()
    return row


async def delete_calendar_day(uow, *, day: str) -> None:  # noqa: ANN001
    """Forget the city's decision for a day."""
    row = await uow.session.get(CalendarDay, parse_day(day), with_for_update=True)
    if row is None:
        raise errors.CalendarDayNotFound(f"no decision recorded for {day}")
    await uow.session.delete(row)
    await uow.commit()
    reference.forget_cached()

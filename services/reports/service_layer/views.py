"""Reports queries, with the visibility rules of DESIGN.md §6."""

from __future__ import annotations

from sqlalchemy import select

from services.reports.adapters.orm import Category, Report, TimelineEntry, Ward
from services.reports.domain.errors import ReportNotFound
from servicekit.auth import Principal


def can_see_private(report: Report, principal: Principal | None) -> bool:
    """Reporter, officers of the assigned agency, operators and auditors see everything."""
    if principal is None:
        return False
    if principal.user_id == report.reporter_id or principal.role in ("operator", "auditor"):
        return True
    return principal.role in ("officer", "agency_admin") and principal.agency_code == report.agency_code


async def get_report(report_id: str, session, principal: Principal | None) -> tuple[Report, list[TimelineEntry], bool]:  # noqa: ANN001
    """A report, its timeline and whether the caller may see private details."""
    report = await session.get(Report, report_id)
    if report is None:
        raise ReportNotFound("report not found")
    privileged = can_see_private(report, principal)
    if report.visibility == "private" and not privileged:
        raise ReportNotFound("report not found")
    timeline = (await session.scalars(
        select(TimelineEntry).where(TimelineEntry.report_id == report_id).order_by(TimelineEntry.at, TimelineEntry.id)
    )).all()
    return report, list(timeline), privileged


async def list_categories(session, include_inactive: bool) -> list[Category]:  # noqa: ANN001
    """The catalogue, active entries only unless asked."""
    q = select(Category).order_by(Category.group, Category.code)
    if not include_inactive:
        q = q.where(Category.active.is_(True))
    return list((await session.scalars(q)).all())


async def list_wards(session) -> list[Ward]:  # noqa: ANN001
    """The 168 commune-level units of the city."""
    return list((await session.scalars(select(Ward).order_by(Ward.code))).all())

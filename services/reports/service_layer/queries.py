"""Report lists (public feed, mine, agency queue) with filters, search and keyset pagination; stats."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select

from services.reports.adapters import search
from services.reports.adapters.orm import Report, TimelineEntry
from servicekit.auth import Principal
from servicekit.errors import InvalidArgument, PermissionDenied, Unauthenticated
from servicekit.pagination import decode_cursor, encode_cursor

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass
class ReportFilter:
    scope: str = "public"                      # public | mine | agency
    kinds: list[str] = field(default_factory=list)
    category_codes: list[str] = field(default_factory=list)
    ward_codes: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    q: str = ""
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None   # min_lat, min_lon, max_lat, max_lon
    agency_code: str = ""
    sort: str = "newest"                       # newest | oldest | due
    ids: list[str] = field(default_factory=list)
    offset: int = 0                            # page-number clients (Open311); cursors are cheaper
    near: tuple[float, float, int] | None = None   # lat, lon, radius in metres: open reports nearby


def _scope_clause(f: ReportFilter, principal: Principal | None):  # noqa: ANN202
    """Who may see which rows."""
    if f.scope == "public":
        return Report.visibility == "public"
    if principal is None:
        raise Unauthenticated("sign-in required", code="auth_required")
    if f.scope == "mine":
        return Report.reporter_id == principal.user_id
    if principal.role in ("officer", "agency_admin"):
        if f.agency_code and f.agency_code != principal.agency_code:
            raise PermissionDenied("another agency's queue", code="other_agency")
        return Report.agency_code == principal.agency_code
    if principal.role in ("operator", "auditor"):
        return Report.agency_code == f.agency_code if f.agency_code else Report.id.is_not(None)
    raise PermissionDenied("staff only", code="role_not_allowed")


def _filters(f: ReportFilter, dialect: str) -> list:
    """WHERE clauses for the optional filters."""
    out = []
    for values, col in ((f.kinds, Report.kind), (f.category_codes, Report.category_code),
                        (f.ward_codes, Report.ward_code), (f.statuses, Report.status)):
        if values:
            out.append(col.in_(values))
    if f.submitted_from:
        out.append(Report.submitted_at >= f.submitted_from)
    if f.submitted_to:
        out.append(Report.submitted_at < f.submitted_to)
    if f.bbox:
        min_lat, min_lon, max_lat, max_lon = f.bbox
        if not (min_lat <= max_lat and min_lon <= max_lon):
            raise InvalidArgument("bounding box corners are swapped", code="invalid_bbox", field="bbox")
        out += [Report.latitude.between(min_lat, max_lat), Report.longitude.between(min_lon, max_lon)]
    if f.ids:
        out.append(Report.id.in_(f.ids[:100]))
    if f.q:
        clause = search.matches(dialect, f.q)
        if clause is not None:
            out.append(clause)
    return out


def _after(f: ReportFilter, cursor: str):  # noqa: ANN202
    """Keyset condition for the page after `cursor`."""
    pos = decode_cursor(cursor)
    if f.sort == "due":
        due = datetime.fromisoformat(pos["due"]) if pos.get("due") else FAR_FUTURE
        due_col = func.coalesce(Report.resolve_due_at, FAR_FUTURE)
        return or_(due_col > due, and_(due_col == due, Report.id > pos["id"]))
    return Report.id > pos["id"] if f.sort == "oldest" else Report.id < pos["id"]


async def list_reports(session, f: ReportFilter, principal: Principal | None, *, cursor: str,  # noqa: ANN001
                       limit: int) -> tuple[list[Report], str]:
    """One page and the next cursor ('' on the last page)."""
    if f.sort not in ("newest", "oldest", "due"):
        raise InvalidArgument("sort must be newest, oldest or due", code="invalid_sort", field="sort")
    if not 0 <= f.offset <= 10_000:
        raise InvalidArgument("offset must be 0 to 10000", code="invalid_offset", field="offset")
    q = select(Report).where(_scope_clause(f, principal), *_filters(f, session.bind.dialect.name))
    if cursor:
        q = q.where(_after(f, cursor))
    if f.sort == "due":
        q = q.order_by(func.coalesce(Report.resolve_due_at, FAR_FUTURE), Report.id)
    else:
        q = q.order_by(Report.id.asc() if f.sort == "oldest" else Report.id.desc())
    rows = list((await session.scalars(q.offset(f.offset).limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, ""
    last = rows[limit - 1]
    due = last.resolve_due_at.replace(tzinfo=UTC).isoformat() if last.resolve_due_at else ""
    return rows[:limit], encode_cursor({"id": last.id, "due": due})


GROUP_COLUMNS = {"agency": Report.agency_code, "ward": Report.ward_code, "category": Report.category_code}


async def stats(session, *, start: datetime, end: datetime, group_by: str, agency_code: str = "",  # noqa: ANN001
                ward_code: str = "", category_code: str = "") -> list[dict]:
    """Per agency, ward or category over [start, end): counts by state, on-time rate, median hours
    to resolve, mean satisfaction."""
    if group_by not in GROUP_COLUMNS:
        raise InvalidArgument("group_by must be agency, ward or category", code="invalid_group_by", field="group_by")
    if not start < end or (end - start).days > 366:
        raise InvalidArgument("period must be positive and at most a year", code="invalid_period", field="from")
    key = GROUP_COLUMNS[group_by]
    q = select(key, Report.status, Report.submitted_at, Report.resolved_at, Report.closed_at,
               Report.resolve_due_at, Report.rating).where(
        Report.submitted_at >= start, Report.submitted_at < end)
    for value, col in ((agency_code, Report.agency_code), (ward_code, Report.ward_code),
                       (category_code, Report.category_code)):
        if value:
            q = q.where(col == value)
    rows: dict[str, dict] = {}
    hours: dict[str, list[float]] = {}
    for k, status, submitted, resolved, _closed, due, rating in (await session.execute(q)).all():
        row = rows.setdefault(k or "", {"key": k or "", "total": 0, "by_status": {}, "resolved": 0,
                                        "resolved_on_time": 0, "ratings": 0, "rating_sum": 0})
        row["total"] += 1
        row["by_status"][status] = row["by_status"].get(status, 0) + 1
        if resolved is not None:
            row["resolved"] += 1
            row["resolved_on_time"] += int(due is None or resolved <= due)
            hours.setdefault(row["key"], []).append((resolved - submitted).total_seconds() / 3600)
        if rating:
            row["ratings"] += 1
            row["rating_sum"] += rating
    for k, row in rows.items():
        row["on_time_rate"] = row["resolved_on_time"] / row["resolved"] if row["resolved"] else 0.0
        row["median_hours_to_resolve"] = statistics.median(hours[k]) if hours.get(k) else 0.0
        rating_sum = row.pop("rating_sum")
        row["mean_rating"] = rating_sum / row["ratings"] if row["ratings"] else 0.0
    return sorted(rows.values(), key=lambda r: (-r["total"], r["key"]))


async def list_updates(session, *, since: datetime, limit: int, agency_code: str = "") -> list[tuple]:  # noqa: ANN001
    """(timeline entry, report) pairs of public reports after `since`, oldest first."""
    if not 1 <= limit <= 1000:
        raise InvalidArgument("limit must be 1 to 1000", code="invalid_limit", field="limit")
    q = (select(TimelineEntry, Report).join(Report, Report.id == TimelineEntry.report_id)
         .where(TimelineEntry.at > since, Report.visibility == "public")
         .order_by(TimelineEntry.at, TimelineEntry.id).limit(limit))
    if agency_code:
        q = q.where(Report.agency_code == agency_code)
    return list((await session.execute(q)).all())


OPEN = ("submitted", "assigned", "in_progress")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


async def nearby(session, f: ReportFilter, limit: int) -> list[Report]:  # noqa: ANN001
    """Open public reports within the radius, nearest first (a box query, then exact distances)."""
    lat, lon, radius = f.near
    if not 10 <= radius <= 2000:
        raise InvalidArgument("radius_m must be 10 to 2000", code="invalid_radius", field="radius_m")
    dlat = radius / 111_320
    dlon = radius / (111_320 * max(math.cos(math.radians(lat)), 0.01))
    q = select(Report).where(
        Report.visibility == "public", Report.status.in_(f.statuses or OPEN),
        Report.latitude.between(lat - dlat, lat + dlat), Report.longitude.between(lon - dlon, lon + dlon),
        *([Report.category_code.in_(f.category_codes)] if f.category_codes else []),
        *([Report.kind.in_(f.kinds)] if f.kinds else [])).limit(500)
    rows = [(distance_m(lat, lon, r.latitude, r.longitude), r) for r in (await session.scalars(q)).all()]
    return [r for d, r in sorted(rows, key=lambda x: (x[0], x[1].id)) if d <= radius][:limit]

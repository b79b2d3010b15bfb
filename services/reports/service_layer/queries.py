"""Report lists (public feed, mine, agency queue) with filters, search and keyset pagination; stats
(service_layer/stats.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, func, literal_column, or_, select

from services.reports.adapters import search
from services.reports.adapters.orm import Report, TimelineEntry
from services.reports.service_layer.stats import stats  # noqa: F401  (callers use queries.stats)
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


def _filters(f: ReportFilter) -> list:
    """WHERE clauses for the optional filters (the text query is added by the caller)."""
    out = []
    for values, col in ((f.kinds, Report.kind), (f.category_codes, Report.category_code),
                        (f.ward_codes, Report.ward_code), (f.statuses, Report.status)):
        if values:
            out.append(col.in_(values))
    if f.submitted_from:
        out += [Report.submitted_at >= f.submitted_from, Report.id >= _id_at(_ms(f.submitted_from) - SLACK_MS)]
    if f.submitted_to:
        out += [Report.submitted_at < f.submitted_to, Report.id < _id_at(_ms(f.submitted_to) + SLACK_MS + 1)]
    if f.bbox:
        min_lat, min_lon, max_lat, max_lon = f.bbox
        if not (min_lat <= max_lat and min_lon <= max_lon):
            raise InvalidArgument("bounding box corners are swapped", code="invalid_bbox", field="bbox")
        out += [Report.latitude.between(min_lat, max_lat), Report.longitude.between(min_lon, max_lon)]
    if f.ids:
        out.append(Report.id.in_(f.ids[:100]))
    return out


# Report ids are UUIDv7s minted when the report is submitted (handlers.submit_report), so an id's
# millisecond time is within SLACK_MS of submitted_at (the UUID clock only runs ahead under
# more than 1,000 ids/ms). A date range therefore also bounds the ids, and feed pages seek to it
# in id order instead of walking past every newer report.
SLACK_MS = 86_400_000   # a day
_MAX_MS = (1 << 48) - 1


def _ms(ts: datetime) -> int:
    """Unix milliseconds (naive datetimes are UTC)."""
    return int((ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp() * 1000)


def _id_at(ms: int) -> str:
    """The smallest UUIDv7 string of millisecond `ms` (a prefix sorts before its extensions)."""
    h = f"{min(max(ms, 0), _MAX_MS):012x}"
    return f"{h[:8]}-{h[8:]}"


def _after(f: ReportFilter, cursor: str):  # noqa: ANN202
    """Keyset condition for the page after `cursor`."""
    pos = decode_cursor(cursor)
    if f.sort == "due":
        due = datetime.fromisoformat(pos["due"]) if pos.get("due") else FAR_FUTURE
        due_col = func.coalesce(Report.resolve_due_at, FAR_FUTURE)
        return or_(due_col > due, and_(due_col == due, Report.id > pos["id"]))
    return Report.id > pos["id"] if f.sort == "oldest" else Report.id < pos["id"]


def _page(rows: list, limit: int, seqs: list[int] | None = None) -> tuple[list[Report], str]:
    """The page and the cursor after its last row ('' when nothing follows)."""
    if len(rows) <= limit:
        return rows, ""
    last = rows[limit - 1]
    due = last.resolve_due_at.replace(tzinfo=UTC).isoformat() if last.resolve_due_at else ""
    position = {"id": last.id, "due": due} | ({"seq": seqs[limit - 1]} if seqs else {})
    return rows[:limit], encode_cursor(position)


async def list_reports(session, f: ReportFilter, principal: Principal | None, *, cursor: str,  # noqa: ANN001
                       limit: int) -> tuple[list[Report], str]:
    """One page and the next cursor ('' on the last page)."""
    if f.sort not in ("newest", "oldest", "due"):
        raise InvalidArgument("sort must be newest, oldest or due", code="invalid_sort", field="sort")
    if not 0 <= f.offset <= 10_000:
        raise InvalidArgument("offset must be 0 to 10000", code="invalid_offset", field="offset")
    dialect = session.bind.dialect.name
    where = [_scope_clause(f, principal), *_filters(f)]
    if f.q and dialect == "sqlite" and f.sort != "due" and f.scope != "mine":
        match = search.fts_match(f.q)
        if match is not None:
            return await _list_hits(session, f, [match, *where], cursor=cursor, limit=limit)
    if cursor:
        where.append(_after(f, cursor))
    order = [func.coalesce(Report.resolve_due_at, FAR_FUTURE), Report.id] if f.sort == "due" \
        else [Report.id.asc() if f.sort == "oldest" else Report.id.desc()]
    if f.q and dialect != "sqlite" and f.sort != "due":
        rows = await _first_window(session, f, where, order, limit)
        if rows is not None:
            return _page(rows, limit)
    text_clause = search.matches(dialect, f.q) if f.q else None
    q = select(Report).where(*where, *([text_clause] if text_clause is not None else [])).order_by(*order)
    return _page(list((await session.scalars(q.offset(f.offset).limit(limit + 1))).all()), limit)


WINDOW = 400


async def _first_window(session, f: ReportFilter, where: list, order: list, limit: int) -> list[Report] | None:  # noqa: ANN001
    """PostgreSQL search: look for the page among the first WINDOW candidates in list order.

    The planner takes the words of a query as independent, so for common words ("duong ngap nuoc":
    a quarter of all reports) next to another filter it expects few hits, builds a bitmap of every
    hit from the GIN index and sorts them. When the page lies within the first WINDOW reports that
    pass the other filters it is exactly the page of the full query; otherwise (rare words) that
    query runs, and the GIN index is the right plan for it.
    """
    window = select(Report.__table__).where(*where).order_by(*order).limit(WINDOW).subquery()
    clause = search.matches(session.bind.dialect.name, f.q, window.c.search_text)
    if clause is None:
        return None
    q = (select(window).where(clause).order_by(window.c.id.asc() if f.sort == "oldest" else window.c.id.desc())
         .offset(f.offset).limit(limit + 1))
    rows = list((await session.scalars(select(Report).from_statement(q))).all())   # Core: no ORM alias to adapt
    return rows if len(rows) > limit else None


async def _list_hits(session, f: ReportFilter, where: list, *, cursor: str, limit: int) -> tuple[list[Report], str]:  # noqa: ANN001
    """SQLite search: FTS5 yields hits in rowid (= id) order, each joined to its report, and stops
    after the page (a citizen's own reports and the due-date queue take the general path)."""
    rowid, content = search.fts.c.rowid, search.fts_content
    newest = f.sort == "newest"
    # Each hit reaches its report by rowid through the primary key: left to itself the planner
    # may look the id up through another index that matches a filter (ward_code: 6,000 rows each).
    by_id = Report.__table__.alias("by_id")
    report_rowid = select(literal_column("by_id.rowid")).where(by_id.c.id == content.c.c0).scalar_subquery()
    q = (select(Report, rowid).select_from(search.fts).join(content, content.c.id == rowid)
         .join(Report, literal_column("reports.rowid") == report_rowid).where(*where))
    if f.submitted_from:
        q = q.where(rowid >= search.rowid_at(_ms(f.submitted_from) - SLACK_MS))
    if f.submitted_to:
        q = q.where(rowid < search.rowid_at(_ms(f.submitted_to) + SLACK_MS + 1))
    if cursor:
        pos = decode_cursor(cursor)
        seq = pos.get("seq")
        seq = seq if isinstance(seq, int) else search.fts_rowid(str(pos.get("id", "")))
        q = q.where(rowid < seq if newest else rowid > seq)
    q = q.order_by(rowid.desc() if newest else rowid.asc()).offset(f.offset).limit(limit + 1)
    rows = (await session.execute(q)).all()
    return _page([r for r, _ in rows], limit, [s for _, s in rows])


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

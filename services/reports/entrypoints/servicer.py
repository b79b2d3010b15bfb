"""ReportsService gRPC servicer: proto <-> handlers and views, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm.exc import StaleDataError

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import reports_pb2, reports_pb2_grpc
from services.reports.entrypoints import convert
from services.reports.domain.text import mask_pii
from services.reports.adapters.media_store import MediaStore
from services.reports.service_layer import catalogue, handlers, lifecycle, media, queries, social, views
from servicekit.auth import current_principal, require_principal
from servicekit.errors import Conflict, InvalidArgument
from servicekit.pagination import page_limit


class ReportsServicer(reports_pb2_grpc.ReportsServiceServicer):
    """Translates RPCs to reports handlers and views."""

    def __init__(self, uow_factory, store: MediaStore):  # noqa: ANN001
        self.uow, self.store = uow_factory, store

    async def _view(self, report_id: str, principal) -> reports_pb2.Report:  # noqa: ANN001
        async with self.uow(read_only=True) as uow:
            report, timeline, privileged = await views.get_report(report_id, uow.session, principal)
            following = await social.is_following(uow.session, report_id, principal)
            photos = await media.of_report(uow.session, report_id)
        out = convert.report_pb(report, timeline, privileged, following=following)
        out.media.extend(convert.media_pb(m) for m in photos)
        return out

    async def UploadMedia(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        return convert.media_pb(await media.upload(request.content, self.uow, self.store, principal))

    async def GetMedia(self, request, context):  # noqa: ANN001, N802
        async with self.uow(read_only=True) as uow:
            row, content = await media.read(request.id, request.thumbnail, uow.session, self.store,
                                            current_principal.get())
        return reports_pb2.MediaContent(media=convert.media_pb(row), content=content)

    async def SubmitReport(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        if request.kind not in convert.KIND_FROM_PB:
            raise InvalidArgument("kind must be incident, feedback or proposal", code="invalid_kind", field="kind")
        if len(request.idempotency_key) > 128:
            raise InvalidArgument("Idempotency-Key is too long", code="invalid_idempotency_key")
        loc, has_location = request.location, request.HasField("location")
        cmd = handlers.SubmitReport(
            kind=convert.KIND_FROM_PB[request.kind], category_code=request.category_code,
            description=request.description,
            latitude=loc.latitude if has_location else None, longitude=loc.longitude if has_location else None,
            ward_code=loc.ward_code if has_location else "", address=loc.address if has_location else "",
            visibility=convert.VISIBILITY_FROM_PB.get(request.visibility, "public"), anonymous=request.anonymous,
            idempotency_key=request.idempotency_key, attributes=dict(request.attributes),
            media_ids=tuple(request.media_ids))
        async with self.uow() as uow:
            done = await handlers.submit(cmd, uow, principal)
        if done.replay:
            return await self._view(done.report.id, principal)
        # A new report: the answer is built from what was just written (no second read).
        out = convert.report_pb(done.report, done.timeline, views.can_see_private(done.report, principal),
                                following=False)
        out.media.extend(convert.media_pb(m) for m in done.media)
        return out

    async def GetReport(self, request, context):  # noqa: ANN001, N802
        return await self._view(request.id, current_principal.get())

    async def TransitionReport(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        if request.action not in convert.ACTION_FROM_PB:
            raise InvalidArgument("unknown action", code="invalid_action", field="action")
        cmd = lifecycle.Transition(report_id=request.id, action=convert.ACTION_FROM_PB[request.action],
                                   note=request.note, reason=request.reason,
                                   expected_version=request.expected_version)
        try:
            async with self.uow() as uow:
                await lifecycle.transition(cmd, uow, principal)
        except StaleDataError as exc:
            raise Conflict("the report changed meanwhile; reload it") from exc
        return await self._view(request.id, principal)

    async def ListReports(self, request, context):  # noqa: ANN001, N802
        principal = current_principal.get()
        f = queries.ReportFilter(
            scope=convert.SCOPE_FROM_PB.get(request.scope, "public"),
            kinds=[convert.KIND_FROM_PB[k] for k in request.kinds if k in convert.KIND_FROM_PB],
            category_codes=list(request.category_codes)[:50], ward_codes=list(request.ward_codes)[:200],
            statuses=[convert.STATUS_FROM_PB[s] for s in request.statuses if s in convert.STATUS_FROM_PB],
            q=request.q[:200], submitted_from=convert.dt(request.submitted_from, request.HasField("submitted_from")),
            submitted_to=convert.dt(request.submitted_to, request.HasField("submitted_to")),
            bbox=(request.min_lat, request.min_lon, request.max_lat, request.max_lon)
            if any((request.min_lat, request.min_lon, request.max_lat, request.max_lon)) else None,
            agency_code=request.agency_code, sort=request.order if request.order == "oldest" else request.sort or "newest",
            ids=list(request.ids)[:100], offset=request.offset,
            near=(request.near_lat, request.near_lon, request.radius_m) if request.radius_m else None)
        limit = page_limit(request.page.limit)
        async with self.uow(read_only=True) as uow:
            if f.near:
                rows, cursor = await queries.nearby(uow.session, f, limit), ""
            else:
                rows, cursor = await queries.list_reports(uow.session, f, principal, cursor=request.page.cursor,
                                                          limit=limit)
        return reports_pb2.ListReportsResponse(
            reports=[convert.report_pb(r, [], f.scope != "public" and views.can_see_private(r, principal))
                     for r in rows],
            page=common_pb2.PageResponse(next_cursor=cursor))

    async def MergeReport(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        try:
            async with self.uow() as uow:
                await social.merge(request.id, request.parent_id, uow, principal)
        except StaleDataError as exc:
            raise Conflict("the report changed meanwhile; reload it") from exc
        return await self._view(request.id, principal)

    async def AddComment(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            comment = await social.add_comment(request.report_id, request.body, request.internal, uow, principal)
        return convert.comment_pb(comment, True, principal.user_id)

    async def ListComments(self, request, context):  # noqa: ANN001, N802
        principal = current_principal.get()
        limit = page_limit(request.page.limit, maximum=100)
        async with self.uow(read_only=True) as uow:
            rows, more, privileged = await social.list_comments(
                request.report_id, uow.session, principal, after=request.page.cursor, limit=limit)
        viewer = principal.user_id if principal else ""
        return reports_pb2.ListCommentsResponse(
            comments=[convert.comment_pb(c, privileged, viewer) for c in rows],
            page=common_pb2.PageResponse(next_cursor=rows[-1].id if more and rows else ""))

    async def FollowReport(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            following, followers = await social.follow(request.report_id, request.follow, uow, principal)
        return reports_pb2.FollowReportResponse(following=following, followers=followers)

    async def RateReport(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            await social.rate(request.report_id, request.stars, request.comment, uow, principal)
        return await self._view(request.report_id, principal)

    async def GetStats(self, request, context):  # noqa: ANN001, N802
        end = convert.dt(request.to, request.HasField("to")) or datetime.now(UTC)
        start = convert.dt(getattr(request, "from"), request.HasField("from"))
        if start is None:
            raise InvalidArgument("from is required", code="invalid_period", field="from")
        async with self.uow(read_only=True) as uow:
            rows = await queries.stats(uow.session, start=start, end=end, group_by=request.group_by or "agency",
                                       agency_code=request.agency_code, ward_code=request.ward_code,
                                       category_code=request.category_code)
        return reports_pb2.GetStatsResponse(rows=[reports_pb2.StatsRow(**r) for r in rows])

    async def ListCategories(self, request, context):  # noqa: ANN001, N802
        async with self.uow(read_only=True) as uow:
            cats = await views.list_categories(uow.session, request.include_inactive)
        return reports_pb2.ListCategoriesResponse(categories=[convert.category_pb(c) for c in cats])

    async def GetCategory(self, request, context):  # noqa: ANN001, N802
        async with self.uow(read_only=True) as uow:
            return convert.category_pb(await catalogue.get_category(request.code, uow.session))

    async def UpsertCategory(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        cmd = catalogue.UpsertCategory(**convert.category_from_pb(request.category))
        async with self.uow() as uow:
            return convert.category_pb(await catalogue.upsert_category(cmd, uow, principal))

    async def ListUpdates(self, request, context):  # noqa: ANN001, N802
        since = convert.dt(request.since, request.HasField("since"))
        if since is None:
            raise InvalidArgument("since is required", code="invalid_since", field="since")
        async with self.uow(read_only=True) as uow:
            rows = await queries.list_updates(uow.session, since=since, limit=request.limit or 100,
                                              agency_code=request.agency_code)
        return reports_pb2.ListUpdatesResponse(updates=[reports_pb2.ReportUpdate(
            report_id=r.id, status=handlers.STATUS_PB[handlers.model.Status(r.status)], agency_code=r.agency_code,
            entry=reports_pb2.TimelineEntry(
                id=t.id, status=handlers.STATUS_PB[handlers.model.Status(t.status)], actor_role=t.actor_role,
                note=t.note if t.actor_role != "citizen" else mask_pii(t.note), at=convert.ts(t.at),
                action=t.action)) for t, r in rows])

    async def ListWards(self, request, context):  # noqa: ANN001, N802
        async with self.uow(read_only=True) as uow:
            wards = await views.list_wards(uow.session)
        return reports_pb2.ListWardsResponse(wards=[
            reports_pb2.Ward(code=w.code, name=w.name, division_type=w.division_type) for w in wards])

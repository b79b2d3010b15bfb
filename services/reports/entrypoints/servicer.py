"""ReportsService gRPC servicer: proto <-> handlers and views."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import reports_pb2, reports_pb2_grpc
from services.reports.adapters.orm import Report, TimelineEntry
from services.reports.domain import model
from services.reports.service_layer import handlers, views
from servicekit.auth import current_principal, require_principal
from servicekit.errors import InvalidArgument

KIND_FROM_PB = {v: k.value for k, v in handlers.KIND_PB.items()}
VISIBILITY_FROM_PB = {reports_pb2.VISIBILITY_UNSPECIFIED: "public", reports_pb2.VISIBILITY_PUBLIC: "public",
                      reports_pb2.VISIBILITY_PRIVATE: "private"}
VISIBILITY_PB = {"public": reports_pb2.VISIBILITY_PUBLIC, "private": reports_pb2.VISIBILITY_PRIVATE}


def _ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def report_pb(report: Report, timeline: list[TimelineEntry], privileged: bool) -> reports_pb2.Report:
    """Proto view; the reporter is shown only to privileged callers or when not anonymous."""
    location = None
    if report.latitude is not None or report.ward_code:
        location = common_pb2.Location(latitude=report.latitude or 0.0, longitude=report.longitude or 0.0,
                                       ward_code=report.ward_code or "", address=report.address)
    return reports_pb2.Report(
        id=report.id, kind=handlers.KIND_PB[model.Kind(report.kind)], category_code=report.category_code,
        category_group=report.category_group, description=report.description, location=location,
        status=handlers.STATUS_PB[model.Status(report.status)], visibility=VISIBILITY_PB[report.visibility],
        anonymous=report.anonymous, reporter_id=report.reporter_id if privileged else "",
        agency_code=report.agency_code,
        agency_name=common_pb2.LocalizedText(vi=report.agency_name_vi, en=report.agency_name_en),
        ack_due_at=_ts(report.ack_due_at), resolve_due_at=_ts(report.resolve_due_at),
        submitted_at=_ts(report.submitted_at), updated_at=_ts(report.updated_at), version=report.version,
        timeline=[reports_pb2.TimelineEntry(
            id=t.id, status=handlers.STATUS_PB[model.Status(t.status)], actor_role=t.actor_role,
            note=t.note, at=_ts(t.at)) for t in timeline],
    )


class ReportsServicer(reports_pb2_grpc.ReportsServiceServicer):
    """Translates RPCs to reports handlers and views."""

    def __init__(self, uow_factory):  # noqa: ANN001
        self.uow = uow_factory

    async def SubmitReport(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        if request.kind not in KIND_FROM_PB:
            raise InvalidArgument("kind must be incident, feedback or proposal", code="invalid_kind", field="kind")
        if len(request.idempotency_key) > 128:
            raise InvalidArgument("Idempotency-Key is too long", code="invalid_idempotency_key")
        has_location = request.HasField("location")
        loc = request.location
        cmd = handlers.SubmitReport(
            kind=KIND_FROM_PB[request.kind], category_code=request.category_code, description=request.description,
            latitude=loc.latitude if has_location else None, longitude=loc.longitude if has_location else None,
            ward_code=loc.ward_code if has_location else "", address=loc.address if has_location else "",
            visibility=VISIBILITY_FROM_PB.get(request.visibility, "public"), anonymous=request.anonymous,
            idempotency_key=request.idempotency_key,
        )
        async with self.uow() as uow:
            report = await handlers.submit_report(cmd, uow, principal)
            report, timeline, privileged = await views.get_report(report.id, uow.session, principal)
        return report_pb(report, timeline, privileged)

    async def GetReport(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            report, timeline, privileged = await views.get_report(request.id, uow.session, current_principal.get())
        return report_pb(report, timeline, privileged)

    async def ListCategories(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            cats = await views.list_categories(uow.session, request.include_inactive)
        return reports_pb2.ListCategoriesResponse(categories=[reports_pb2.Category(
            code=c.code, name=common_pb2.LocalizedText(vi=c.name_vi, en=c.name_en),
            kind=handlers.KIND_PB[model.Kind(c.kind)], group=c.group, active=c.active,
            photo_required=c.photo_required) for c in cats])

    async def ListWards(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            wards = await views.list_wards(uow.session)
        return reports_pb2.ListWardsResponse(wards=[
            reports_pb2.Ward(code=w.code, name=w.name, division_type=w.division_type) for w in wards])

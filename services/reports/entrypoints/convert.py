"""Proto <-> domain conversions of the reports service."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import reports_pb2
from services.reports.adapters.orm import Comment, Report, TimelineEntry
from services.reports.domain import model
from services.reports.domain.text import mask_pii
from services.reports.service_layer.handlers import KIND_PB, STATUS_PB
from servicekit.protoutil import timestamp

KIND_FROM_PB = {v: k.value for k, v in KIND_PB.items()}
STATUS_FROM_PB = {v: k.value for k, v in STATUS_PB.items()}
VISIBILITY_FROM_PB = {reports_pb2.VISIBILITY_UNSPECIFIED: "public", reports_pb2.VISIBILITY_PUBLIC: "public",
                      reports_pb2.VISIBILITY_PRIVATE: "private"}
VISIBILITY_PB = {"public": reports_pb2.VISIBILITY_PUBLIC, "private": reports_pb2.VISIBILITY_PRIVATE}
ACTION_FROM_PB = {
    reports_pb2.TRANSITION_ACTION_ACKNOWLEDGE: model.Action.ACKNOWLEDGE,
    reports_pb2.TRANSITION_ACTION_RESOLVE: model.Action.RESOLVE,
    reports_pb2.TRANSITION_ACTION_REJECT: model.Action.REJECT,
    reports_pb2.TRANSITION_ACTION_WITHDRAW: model.Action.WITHDRAW,
    reports_pb2.TRANSITION_ACTION_CONFIRM: model.Action.CONFIRM,
    reports_pb2.TRANSITION_ACTION_REOPEN: model.Action.REOPEN,
}
SCOPE_FROM_PB = {reports_pb2.LIST_SCOPE_UNSPECIFIED: "public", reports_pb2.LIST_SCOPE_PUBLIC: "public",
                 reports_pb2.LIST_SCOPE_MINE: "mine", reports_pb2.LIST_SCOPE_AGENCY: "agency"}


ts = timestamp


def dt(value: Timestamp, present: bool) -> datetime | None:
    """An aware datetime from a set timestamp field."""
    return value.ToDatetime(UTC) if present else None


def report_pb(report: Report, timeline: list[TimelineEntry], privileged: bool, *,
              following: bool = False) -> reports_pb2.Report:
    """Proto view; callers who are not privileged get no reporter id and masked text."""
    text = (lambda s: s) if privileged else mask_pii
    location = None
    if report.latitude is not None or report.ward_code:
        location = common_pb2.Location(latitude=report.latitude or 0.0, longitude=report.longitude or 0.0,
                                       ward_code=report.ward_code or "", address=text(report.address))
    return reports_pb2.Report(
        id=report.id, kind=KIND_PB[model.Kind(report.kind)], category_code=report.category_code,
        category_group=report.category_group, description=text(report.description), location=location,
        status=STATUS_PB[model.Status(report.status)], visibility=VISIBILITY_PB[report.visibility],
        anonymous=report.anonymous, reporter_id=report.reporter_id if privileged else "",
        agency_code=report.agency_code,
        agency_name=common_pb2.LocalizedText(vi=report.agency_name_vi, en=report.agency_name_en),
        ack_due_at=ts(report.ack_due_at), resolve_due_at=ts(report.resolve_due_at),
        submitted_at=ts(report.submitted_at), updated_at=ts(report.updated_at), version=report.version,
        followers=report.followers, comments=report.comments, rating=report.rating,
        rating_comment=text(report.rating_comment), resolved_at=ts(report.resolved_at),
        closed_at=ts(report.closed_at), reject_reason=report.reject_reason, following=following,
        merged_into=report.merged_into, attributes=report.attributes or {},
        timeline=[reports_pb2.TimelineEntry(
            id=t.id, status=STATUS_PB[model.Status(t.status)], actor_role=t.actor_role,
            note=t.note if privileged or t.actor_role != "citizen" else text(t.note), at=ts(t.at),
            action=t.action) for t in timeline],
    )


def comment_pb(c: Comment, privileged: bool, viewer_id: str) -> reports_pb2.Comment:
    """Proto view of a comment; residents' text is masked for the public."""
    body = c.body if privileged or c.author_role != "citizen" else mask_pii(c.body)
    return reports_pb2.Comment(id=c.id, report_id=c.report_id, author_role=c.author_role, body=body,
                               internal=c.internal, created_at=ts(c.created_at), mine=c.author_id == viewer_id)


def category_pb(c) -> reports_pb2.Category:  # noqa: ANN001
    """Proto view of a category with its extra fields."""
    return reports_pb2.Category(
        code=c.code, name=common_pb2.LocalizedText(vi=c.name_vi, en=c.name_en), kind=KIND_PB[model.Kind(c.kind)],
        group=c.group, active=c.active, photo_required=c.photo_required, urgent=c.urgent,
        description=common_pb2.LocalizedText(vi=c.description_vi or "", en=c.description_en or ""),
        attributes=[reports_pb2.CategoryAttribute(
            code=a["code"], datatype=a["datatype"], required=a["required"], order=a["order"],
            variable=a.get("variable", True),
            description=common_pb2.LocalizedText(vi=a.get("description_vi", ""), en=a.get("description_en", "")),
            values=[reports_pb2.AttributeValue(key=v["key"], name=common_pb2.LocalizedText(
                vi=v.get("name_vi", ""), en=v.get("name_en", ""))) for v in a.get("values", [])])
            for a in (c.attributes or [])])


def category_from_pb(c: reports_pb2.Category) -> dict:
    """Fields of an UpsertCategory command from the proto."""
    return {
        "code": c.code, "name_vi": c.name.vi, "name_en": c.name.en, "kind": KIND_FROM_PB.get(c.kind, ""),
        "group": c.group, "active": c.active, "photo_required": c.photo_required, "urgent": c.urgent,
        "description_vi": c.description.vi, "description_en": c.description.en,
        "attributes": [{"code": a.code, "datatype": a.datatype, "required": a.required, "order": a.order,
                        "variable": a.variable, "description_vi": a.description.vi,
                        "description_en": a.description.en,
                        "values": [{"key": v.key, "name_vi": v.name.vi, "name_en": v.name.en} for v in a.values]}
                       for a in c.attributes],
    }


def media_pb(m) -> reports_pb2.Media:  # noqa: ANN001
    """Proto view of a photo's metadata."""
    return reports_pb2.Media(id=m.id, content_type=m.content_type, width=m.width, height=m.height, bytes=m.bytes,
                             report_id=m.report_id or "")

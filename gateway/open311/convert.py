"""Our protos -> Open311 documents: open/closed status, detail in status_notes and extended fields."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from google.protobuf.message import Message

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import reports_pb2
from gateway.open311.models import (Attribute, AttributeValue, RequestUpdate, Service, ServiceDefinition,
                                    ServiceRequest)
from gateway.protoconv import enum_out

CITY_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CLOSED = frozenset({"closed", "rejected", "withdrawn"})
OPEN_STATES = ("submitted", "assigned", "in_progress", "resolved")
CLOSED_STATES = ("closed", "rejected", "withdrawn")
LABELS = {
    "submitted": ("Đã tiếp nhận", "Submitted"), "assigned": ("Đã chuyển cơ quan xử lý", "Assigned to an agency"),
    "in_progress": ("Đang xử lý", "In progress"), "resolved": ("Đã xử lý", "Resolved"),
    "closed": ("Đã đóng", "Closed"), "rejected": ("Từ chối", "Rejected"), "withdrawn": ("Đã rút", "Withdrawn"),
}


def pick(msg: common_pb2.LocalizedText, lang: str) -> str:
    """The text in `lang`, falling back to the other language."""
    return (msg.en or msg.vi) if lang == "en" else (msg.vi or msg.en)


def w3c(msg: Message, field: str) -> str | None:
    """A Timestamp field as a W3C datetime in city time (e.g. 2026-11-29T19:03:05+07:00), None when unset."""
    if not msg.HasField(field):
        return None
    return getattr(msg, field).ToDatetime(tzinfo=CITY_TZ).replace(microsecond=0).isoformat()


def w3c_dt(value: datetime) -> str:
    """An aware datetime as a W3C datetime in city time."""
    return value.astimezone(CITY_TZ).replace(microsecond=0).isoformat()


def detailed(status: int) -> str:
    """REPORT_STATUS_IN_PROGRESS -> "in_progress"."""
    return enum_out(reports_pb2.ReportStatus, "REPORT_STATUS_", status)


def open_closed(status: int) -> str:
    """Open311 status: closed for closed/rejected/withdrawn, open otherwise."""
    return "closed" if detailed(status) in CLOSED else "open"


def label(status: str, lang: str) -> str:
    """A human label of one detailed state."""
    vi, en = LABELS.get(status, (status, status))
    return en if lang == "en" else vi


def service(category: reports_pb2.Category, lang: str) -> Service:
    """Category -> a services list entry."""
    return Service(service_code=category.code, service_name=pick(category.name, lang),
                   description=pick(category.description, lang) or pick(category.name, lang),
                   metadata=len(category.attributes) > 0, type="realtime",
                   keywords=enum_out(reports_pb2.ReportKind, "REPORT_KIND_", category.kind), group=category.group)


def definition(category: reports_pb2.Category, lang: str) -> ServiceDefinition:
    """Category -> service definition with its attributes in `order`."""
    attrs = sorted(category.attributes, key=lambda a: (a.order, a.code))
    return ServiceDefinition(service_code=category.code, attributes=[Attribute(
        variable=a.variable, code=a.code, datatype=a.datatype, required=a.required, order=a.order,
        description=pick(a.description, lang),
        values=[AttributeValue(key=v.key, name=pick(v.name, lang)) for v in a.values]) for a in attrs])


def _staff_note(report: reports_pb2.Report) -> str:
    """The newest note an agency wrote (resolution, rejection), if any."""
    for entry in reversed(report.timeline):
        if entry.note and entry.actor_role not in ("citizen", ""):
            return entry.note
    return ""


def service_request(report: reports_pb2.Report, names: dict[str, str], lang: str) -> ServiceRequest:
    """Report -> service request; `names` maps category codes to service names."""
    state = detailed(report.status)
    notes = label(state, lang)
    if report.reject_reason:
        notes = f"{notes}: {report.reject_reason}"
    elif note := _staff_note(report):
        notes = f"{notes}: {note}"
    loc = report.location if report.HasField("location") else None
    extended = {"detailed_status": state, "kind": enum_out(reports_pb2.ReportKind, "REPORT_KIND_", report.kind),
                "agency_code": report.agency_code or None, "ward_code": loc.ward_code if loc else None,
                "acknowledge_due_datetime": w3c(report, "ack_due_at"),
                "report_attributes": [{"code": k, "value": v} for k, v in sorted(report.attributes.items())]}
    return ServiceRequest(
        service_request_id=report.id, status=open_closed(report.status), status_notes=notes,
        service_name=names.get(report.category_code, report.category_code), service_code=report.category_code,
        description=report.description, agency_responsible=pick(report.agency_name, lang) or None,
        service_notice="", requested_datetime=w3c(report, "submitted_at") or "",
        updated_datetime=w3c(report, "updated_at") or "", expected_datetime=w3c(report, "resolve_due_at"),
        address=(loc.address or None) if loc else None, lat=loc.latitude if loc else None,
        long=loc.longitude if loc else None, extended_attributes=extended)


def update(item: reports_pb2.ReportUpdate, lang: str) -> RequestUpdate:
    """ReportUpdate -> one servicerequestupdates entry."""
    entry = item.entry
    return RequestUpdate(
        update_id=entry.id, service_request_id=item.report_id, status=open_closed(item.status),
        updated_datetime=w3c(entry, "at") or "", description=entry.note or label(detailed(entry.status), lang),
        extended_attributes={"detailed_status": detailed(item.status), "action": entry.action,
                             "actor_role": entry.actor_role, "agency_code": item.agency_code or None})

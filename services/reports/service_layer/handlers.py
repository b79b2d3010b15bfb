"""Reports commands: submit, and transitions driven by routing's events."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError

from congdanso.reports.v1 import events_pb2, reports_pb2
from services.reports.adapters import rows, search
from services.reports.adapters.orm import Report, TimelineEntry
from services.reports.domain import model
from services.reports.domain.attributes import check_values
from services.reports.service_layer import media, reference
from services.reports.domain.errors import IdempotencyKeyReused, UnknownCategory, UnknownWard
from servicekit.auth import Principal
from servicekit.errors import InvalidArgument, PermissionDenied
from servicekit.events import new_id
from servicekit.protoutil import timestamp

KIND_PB = {model.Kind.INCIDENT: reports_pb2.REPORT_KIND_INCIDENT, model.Kind.FEEDBACK: reports_pb2.REPORT_KIND_FEEDBACK,
           model.Kind.PROPOSAL: reports_pb2.REPORT_KIND_PROPOSAL}
STATUS_PB = {s: getattr(reports_pb2, f"REPORT_STATUS_{s.name}") for s in model.Status}


@dataclass(frozen=True)
class SubmitReport:
    kind: str
    category_code: str
    description: str
    latitude: float | None = None
    longitude: float | None = None
    ward_code: str = ""
    address: str = ""
    visibility: str = "public"
    anonymous: bool = False
    idempotency_key: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    media_ids: tuple[str, ...] = ()

    def fingerprint(self) -> str:
        """Hash of the request body, to tell a retry from a reuse of the same key."""
        body = {k: v for k, v in asdict(self).items() if k != "idempotency_key"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


SUBMIT_SCOPES = frozenset({"open311:submit", "reports:write"})


def may_submit(principal: Principal) -> bool:
    """Residents, and integration clients holding a submit scope, file reports."""
    return principal.role == "citizen" or (principal.role == "client" and bool(principal.scopes & SUBMIT_SCOPES))


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Submitted:
    """A submission's outcome: the new report with its first timeline entry and photos, or (replay)
    the report an earlier request with the same Idempotency-Key created, which the caller re-reads."""

    report: Report
    replay: bool = False
    timeline: list[TimelineEntry] = field(default_factory=list)
    media: list = field(default_factory=list)


async def submit_report(cmd: SubmitReport, uow, principal: Principal) -> Report:  # noqa: ANN001
    """Validate and store a new report, its first timeline entry and report_submitted."""
    return (await submit(cmd, uow, principal)).report


async def submit(cmd: SubmitReport, uow, principal: Principal) -> Submitted:  # noqa: ANN001
    """submit_report, also handing back what the answer shows (no second read for a new report)."""
    if not may_submit(principal):
        raise PermissionDenied("only residents and integration clients with a submit scope file reports",
                               code="role_not_allowed")
    connection = await uow.session.connection()   # Core statements: see adapters/rows.py
    if cmd.idempotency_key:
        replay = await _replay(cmd, uow, principal, connection)
        if replay is not None:
            return Submitted(replay, replay=True)
    category = await reference.category(uow.session, cmd.category_code)
    if category is None or not category.active:
        raise UnknownCategory(f"unknown category {cmd.category_code!r}", field="category_code")
    if category.kind != cmd.kind:
        raise InvalidArgument("category does not belong to this kind", code="category_kind_mismatch", field="kind")
    ward = await _check_location(cmd, uow)
    attributes = check_values(category.attributes or [], cmd.attributes)
    media.check_required(category, list(cmd.media_ids), principal)
    now = _now()
    row = _new_report(cmd, category, ward, attributes, principal, now)
    entry = {"id": new_id(), "report_id": row["id"], "status": row["status"], "action": "submit",
             "actor_id": principal.user_id, "actor_role": principal.role, "note": "", "at": now}
    report = Report(**row)
    try:
        photos = await _write(cmd, uow, connection, principal, report, row, entry)
        uow.emit(events_pb2.ReportSubmitted(
            report_id=report.id, kind=KIND_PB[model.Kind(report.kind)], category_code=report.category_code,
            category_group=report.category_group, ward_code=report.ward_code or "", reporter_id=report.reporter_id,
            submitted_at=timestamp(now)))
        await uow.commit()
    except IntegrityError:
        # Two requests with the same key raced; the loser answers with the winner's report.
        await uow.session.rollback()
        replay = await _replay(cmd, uow, principal, await uow.session.connection())
        if replay is None:
            raise
        return Submitted(replay, replay=True)
    return Submitted(report, timeline=[TimelineEntry(**entry)], media=sorted(photos, key=lambda m: m.id))


async def _write(cmd: SubmitReport, uow, connection, principal: Principal,  # noqa: ANN001, PLR0913
                 report: Report, row: dict, entry: dict) -> list:
    """Insert the report (search index and roll-up in step), attach its photos, insert its first timeline
    entry and the Idempotency-Key record; returns the photos."""
    await rows.insert_report(connection, uow.session, row)
    await search.index_new(connection, row["id"], row["search_text"])
    photos = await media.attach(list(cmd.media_ids), report, uow, principal)
    await rows.insert_timeline(connection, entry)
    if cmd.idempotency_key:
        await rows.insert_idempotency_key(connection, {
            "reporter_id": principal.user_id, "key": cmd.idempotency_key, "request_hash": cmd.fingerprint(),
            "report_id": row["id"], "created_at": row["submitted_at"]})
    return photos


def _new_report(cmd: SubmitReport, category, ward: str | None, attributes: dict,  # noqa: ANN001, PLR0913
                principal: Principal, now: datetime) -> dict:
    """The complete row of a new report, column defaults included (the answer is built from it)."""
    description = model.clean_text(cmd.description, field="description", minimum=model.DESCRIPTION_MIN,
                                   maximum=model.DESCRIPTION_MAX)
    address = model.clean_text(cmd.address, field="address", minimum=0, maximum=model.ADDRESS_MAX)
    return {
        **rows.NEW_REPORT_DEFAULTS, "id": new_id(), "kind": cmd.kind, "category_code": category.code,
        "category_group": category.group, "description": description, "latitude": cmd.latitude,
        "longitude": cmd.longitude, "ward_code": ward, "address": address, "status": model.Status.SUBMITTED,
        "visibility": cmd.visibility, "anonymous": cmd.anonymous, "reporter_id": principal.user_id,
        "submitted_at": now, "updated_at": now, "attributes": attributes,
        "search_text": search.document_text(category.code, address, description),
        # New reports have always been seen at version 2 (the search text used to be a second write
        # of the row); kept, as clients hold versions for their expected_version checks.
        "version": 2,
    }


async def _replay(cmd: SubmitReport, uow, principal: Principal, connection) -> Report | None:  # noqa: ANN001
    """The report an earlier request with the same Idempotency-Key created, if any."""
    row = await rows.idempotency_key(connection, principal.user_id, cmd.idempotency_key)
    if row is None:
        return None
    if row.request_hash != cmd.fingerprint():
        raise IdempotencyKeyReused("this Idempotency-Key was used with a different request")
    return await uow.session.get(Report, row.report_id)


async def _check_location(cmd: SubmitReport, uow) -> str | None:  # noqa: ANN001
    """Incidents need a point in the city and a known ward; feedback and proposals may omit both."""
    has_point = cmd.latitude is not None and cmd.longitude is not None
    if cmd.kind == model.Kind.INCIDENT and not (has_point and cmd.ward_code):
        raise InvalidArgument("an incident needs a location and a ward", code="location_required", field="location")
    if has_point:
        model.check_point(cmd.latitude, cmd.longitude)
    if cmd.ward_code:
        if not await reference.ward_exists(uow.session, cmd.ward_code):
            raise UnknownWard(f"unknown ward {cmd.ward_code!r}", field="location.ward_code")
        return cmd.ward_code
    return None



"""RoutingService gRPC servicer."""

from __future__ import annotations

import base64

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from congdanso.common.v1 import common_pb2
from congdanso.routing.v1 import routing_pb2, routing_pb2_grpc
from services.routing.adapters.orm import Agency, Assignment
from services.routing.service_layer import handlers
from servicekit.auth import require_principal
from servicekit.errors import InvalidArgument, NotFound

MAX_LIMIT, DEFAULT_LIMIT = 200, 50


def _ts(value) -> Timestamp:  # noqa: ANN001
    ts = Timestamp()
    ts.FromDatetime(value)
    return ts


def encode_cursor(value: str) -> str:
    """Opaque cursor for keyset pagination."""
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """Inverse of encode_cursor; a bad cursor is INVALID_ARGUMENT."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidArgument("bad cursor", code="invalid_cursor", field="cursor") from exc


class RoutingServicer(routing_pb2_grpc.RoutingServiceServicer):
    """Translates RPCs to routing queries and handlers."""

    def __init__(self, uow_factory):  # noqa: ANN001
        self.uow = uow_factory

    async def ListAgencies(self, request, context):  # noqa: ANN001, N802
        limit = request.page.limit or DEFAULT_LIMIT
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidArgument(f"limit must be 1 to {MAX_LIMIT}", code="invalid_limit", field="limit")
        q = select(Agency).where(Agency.active.is_(True)).order_by(Agency.code).limit(limit + 1)
        if request.page.cursor:
            q = q.where(Agency.code > decode_cursor(request.page.cursor))
        if request.kind:
            q = q.where(Agency.kind == request.kind)
        async with self.uow() as uow:
            rows = list((await uow.session.scalars(q)).all())
        more = len(rows) > limit
        rows = rows[:limit]
        return routing_pb2.ListAgenciesResponse(
            agencies=[routing_pb2.Agency(code=a.code, name=common_pb2.LocalizedText(vi=a.name_vi, en=a.name_en),
                                         kind=a.kind, parent_code=a.parent_code or "", ward_code=a.ward_code or "")
                      for a in rows],
            page=common_pb2.PageResponse(next_cursor=encode_cursor(rows[-1].code) if more else ""))

    async def GetAssignment(self, request, context):  # noqa: ANN001, N802
        principal = require_principal("officer", "agency_admin", "operator", "auditor")
        async with self.uow() as uow:
            a = await uow.session.get(Assignment, request.report_id)
        if a is None or (principal.role in ("officer", "agency_admin") and principal.agency_code != a.agency_code):
            raise NotFound("no assignment for this report", code="assignment_not_found")
        return routing_pb2.Assignment(report_id=a.report_id, agency_code=a.agency_code, rule_id=a.rule_id,
                                      rule_version=a.rule_version, ack_due_at=_ts(a.ack_due_at),
                                      resolve_due_at=_ts(a.resolve_due_at), assigned_at=_ts(a.assigned_at))

    async def ExplainRoute(self, request, context):  # noqa: ANN001, N802
        require_principal("officer", "agency_admin", "operator", "auditor")
        async with self.uow() as uow:
            decision, agency = await handlers.decide(
                uow.session, kind=request.kind, category_code=request.category_code,
                category_group=request.category_group, ward_code=request.ward_code)
        return routing_pb2.ExplainRouteResponse(
            agency_code=agency.code, rule_id=decision.rule.id if decision.rule else "",
            rule_version=decision.rule.version if decision.rule else 0, reason=decision.reason)

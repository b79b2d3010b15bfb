"""Working together on a report: comments (public or staff-internal), follows ("me too"), ratings."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select

from congdanso.reports.v1 import events_pb2
from services.reports.adapters.orm import Comment, Follow, Report
from services.reports.domain import model
from services.reports.domain.errors import ReportNotFound
from services.reports.service_layer.views import can_see_private
from servicekit.auth import Principal
from servicekit.errors import AlreadyExists, InvalidArgument, PermissionDenied
from servicekit.events import new_id

COMMENT_MAX, RATING_COMMENT_MAX = 2000, 1000


async def _visible(uow, report_id: str, principal: Principal) -> Report:  # noqa: ANN001
    report = await uow.session.get(Report, report_id)
    if report is None or (report.visibility == "private" and not can_see_private(report, principal)):
        raise ReportNotFound("report not found")
    return report


async def add_comment(report_id: str, body: str, internal: bool, uow, principal: Principal) -> Comment:  # noqa: ANN001
    """Add a comment; internal ones are for staff of the assigned agency and operators only."""
    report = await _visible(uow, report_id, principal)
    if internal and not (principal.is_staff and can_see_private(report, principal)):
        raise PermissionDenied("internal comments are for the agency's staff", code="internal_comment_forbidden")
    if principal.role == "auditor":
        raise PermissionDenied("auditors read only", code="role_not_allowed")
    text = model.clean_text(body, field="body", minimum=1, maximum=COMMENT_MAX)
    comment = Comment(id=new_id(), report_id=report.id, author_id=principal.user_id, author_role=principal.role,
                      body=text, internal=internal, created_at=datetime.now(UTC))
    uow.session.add(comment)
    if not internal:
        report.comments += 1
    uow.emit(events_pb2.ReportCommented(report_id=report.id, comment_id=comment.id, author_role=principal.role,
                                        internal=internal, reporter_id=report.reporter_id,
                                        agency_code=report.agency_code, author_id=principal.user_id))
    await uow.commit()
    return comment


async def list_comments(report_id: str, session, principal: Principal | None, *, after: str, limit: int):  # noqa: ANN001, ANN201
    """Oldest first; internal comments only for privileged staff."""
    report = await session.get(Report, report_id)
    if report is None or (report.visibility == "private" and not can_see_private(report, principal)):
        raise ReportNotFound("report not found")
    privileged_staff = principal is not None and principal.is_staff and can_see_private(report, principal)
    q = select(Comment).where(Comment.report_id == report_id).order_by(Comment.id).limit(limit + 1)
    if after:
        q = q.where(Comment.id > after)
    if not privileged_staff:
        q = q.where(Comment.internal.is_(False))
    rows = list((await session.scalars(q)).all())
    return rows[:limit], len(rows) > limit, can_see_private(report, principal)


async def follow(report_id: str, on: bool, uow, principal: Principal) -> tuple[bool, int]:  # noqa: ANN001
    """Follow or unfollow (idempotent); returns (following, followers)."""
    report = await _visible(uow, report_id, principal)
    if principal.role not in ("citizen", "officer", "agency_admin", "operator"):
        raise PermissionDenied("cannot follow", code="role_not_allowed")
    existing = await uow.session.get(Follow, (report.id, principal.user_id))
    if on and existing is None:
        uow.session.add(Follow(report_id=report.id, user_id=principal.user_id, created_at=datetime.now(UTC)))
        report.followers += 1
    elif not on and existing is not None:
        await uow.session.execute(delete(Follow).where(Follow.report_id == report.id,
                                                       Follow.user_id == principal.user_id))
        report.followers = max(0, report.followers - 1)
    else:
        return on, report.followers
    uow.emit(events_pb2.ReportFollowed(report_id=report.id, user_id=principal.user_id, following=on))
    await uow.commit()
    return on, report.followers


async def rate(report_id: str, stars: int, comment: str, uow, principal: Principal) -> Report:  # noqa: ANN001
    """The reporter rates the handling once, after resolution."""
    report = await _visible(uow, report_id, principal)
    if principal.user_id != report.reporter_id:
        raise PermissionDenied("only the reporter rates the handling", code="not_reporter")
    if report.status not in (model.Status.RESOLVED, model.Status.CLOSED):
        raise PermissionDenied("rate after the report is resolved", code="not_resolved_yet")
    if report.rating:
        raise AlreadyExists("the handling was already rated", code="already_rated")
    if not 1 <= stars <= 5:
        raise InvalidArgument("stars must be 1 to 5", code="invalid_rating", field="stars")
    report.rating = stars
    report.rating_comment = model.clean_text(comment, field="comment", minimum=0, maximum=RATING_COMMENT_MAX)
    report.updated_at = datetime.now(UTC)
    uow.emit(events_pb2.ReportRated(report_id=report.id, agency_code=report.agency_code, stars=stars))
    await uow.commit()
    return report


async def is_following(session, report_id: str, principal: Principal | None) -> bool:  # noqa: ANN001
    """Whether the caller follows the report."""
    if principal is None:
        return False
    return await session.get(Follow, (report_id, principal.user_id)) is not None


async def merge(report_id: str, parent_id: str, uow, principal: Principal) -> Report:  # noqa: ANN001
    """Close a duplicate into its parent: rejected as duplicate, its reporter follows the parent."""
    from services.reports.service_layer import lifecycle  # lifecycle imports views; keep this one-way

    if report_id == parent_id:
        raise InvalidArgument("a report cannot be merged into itself", code="merge_into_self", field="parent_id")
    report = await _visible(uow, report_id, principal)
    parent = await _visible(uow, parent_id, principal)
    if parent.status in (model.Status.REJECTED, model.Status.WITHDRAWN) or parent.merged_into:
        raise InvalidArgument("the parent report is not open to merges", code="invalid_merge_parent",
                              field="parent_id")
    actor = lifecycle.actor_of(report, principal, model.Action.REJECT)
    if actor not in ("officer", "agency_admin", "operator"):
        raise PermissionDenied("staff merge duplicates", code="role_not_allowed")
    now = datetime.now(UTC)
    report.merged_into = parent.id
    await lifecycle.apply(uow, report, model.Action.REJECT, actor=actor, actor_id=principal.user_id,
                          note=f"merged into {parent.id}", reason="duplicate", at=now)
    if report.reporter_id != parent.reporter_id and await uow.session.get(Follow, (parent.id, report.reporter_id)) is None:
        uow.session.add(Follow(report_id=parent.id, user_id=report.reporter_id, created_at=now))
        parent.followers += 1
        uow.emit(events_pb2.ReportFollowed(report_id=parent.id, user_id=report.reporter_id, following=True))
    uow.emit(events_pb2.ReportMerged(report_id=report.id, parent_report_id=parent.id))
    await uow.commit()
    return report

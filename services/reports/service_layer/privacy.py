"""Erasure: when a resident deletes their account, their reports stay for statistics, pseudonymised."""

from __future__ import annotations

import hashlib

from sqlalchemy import delete, select, update

from congdanso.identity.v1 import events_pb2 as identity_events
from services.reports.adapters import search
from services.reports.adapters.orm import Comment, Follow, IdempotencyKey, Report, TimelineEntry
from services.reports.domain.text import mask_pii


def pseudonym(user_id: str) -> str:
    """A stable stand-in id that no longer points at the person."""
    return "deleted-" + hashlib.sha256(user_id.encode()).hexdigest()[:28]


async def pseudonymise_user(event, uow) -> None:  # noqa: ANN001
    """identity.v1.user_deleted: replace the person's id everywhere and mask contact data in their text."""
    user_id = event.parse(identity_events.UserDeleted).user_id
    alias = pseudonym(user_id)
    reports = (await uow.session.scalars(select(Report).where(Report.reporter_id == user_id))).all()
    for report in reports:
        report.reporter_id = alias
        report.description = mask_pii(report.description)
        report.rating_comment = mask_pii(report.rating_comment)
        await search.index_report(uow.session, report)
    for model, column in ((Comment, Comment.author_id), (TimelineEntry, TimelineEntry.actor_id)):
        await uow.session.execute(update(model).where(column == user_id).values({column.key: alias}))
    comments = (await uow.session.scalars(select(Comment).where(Comment.author_id == alias))).all()
    for comment in comments:
        comment.body = mask_pii(comment.body)
    followed = (await uow.session.scalars(select(Follow.report_id).where(Follow.user_id == user_id))).all()
    if followed:
        await uow.session.execute(update(Report).where(Report.id.in_(followed))
                                  .values(followers=Report.followers - 1))
    await uow.session.execute(delete(Follow).where(Follow.user_id == user_id))
    await uow.session.execute(delete(IdempotencyKey).where(IdempotencyKey.reporter_id == user_id))

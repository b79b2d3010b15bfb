"""The append-only audit log: log-ins, failures, lockouts, token reuse, staff changes, contact reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.adapters.orm import AuditRecord
from servicekit.events import new_id

MAX_PAGE = 200


def record(session: AsyncSession, action: str, *, actor_id: str = "", actor_role: str = "",
           subject_id: str = "", client_ip: str = "", **detail: object) -> AuditRecord:
    """Add one entry to the current transaction (never phone numbers, names or codes in `detail`)."""
    entry = AuditRecord(id=new_id(), at=datetime.now(UTC), action=action, actor_id=actor_id,
                        actor_role=actor_role, subject_id=subject_id, client_ip=client_ip or "",
                        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True))
    session.add(entry)
    return entry


async def list_entries(session: AsyncSession, *, action: str = "", actor_id: str = "", subject_id: str = "",
                       cursor: str = "", limit: int = 50) -> tuple[list[AuditRecord], str]:
    """Entries newest first (ids are UUIDv7, so id order is time order) and the next cursor."""
    limit = max(1, min(limit or 50, MAX_PAGE))
    q = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit + 1)
    if action:
        q = q.where(AuditRecord.action == action)
    if actor_id:
        q = q.where(AuditRecord.actor_id == actor_id)
    if subject_id:
        q = q.where(AuditRecord.subject_id == subject_id)
    if cursor:
        q = q.where(AuditRecord.id < cursor)
    rows = list((await session.scalars(q)).all())
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else "")


async def about(session: AsyncSession, user_id: str) -> list[AuditRecord]:
    """Every entry where the user is actor or subject (for the data export)."""
    q = select(AuditRecord).where((AuditRecord.actor_id == user_id) | (AuditRecord.subject_id == user_id))
    return list((await session.scalars(q.order_by(AuditRecord.id))).all())

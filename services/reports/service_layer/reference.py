"""Per-process cache of reference data read on every submission: wards and categories.

Wards are seeded reference data that only `setup` changes, so their codes are read once per
engine. Categories change when an operator edits the catalogue: this process drops its copy at
once (`forget_categories`, called by catalogue.upsert_category), other replicas within
CATEGORY_TTL_S seconds. Snapshots are plain values, never ORM instances shared across sessions.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from sqlalchemy import select

from services.reports.adapters.orm import Category, Ward

CATEGORY_TTL_S = 5.0


@dataclass(frozen=True)
class CategoryInfo:
    """What a submission needs of its category."""

    code: str
    kind: str
    group: str
    active: bool
    photo_required: bool
    attributes: list

    @classmethod
    def of(cls, row: Category) -> CategoryInfo:
        return cls(code=row.code, kind=row.kind, group=row.group, active=row.active,
                   photo_required=row.photo_required, attributes=list(row.attributes or []))


class _Entry:
    __slots__ = ("wards", "categories", "loaded_at")

    def __init__(self) -> None:
        self.wards: frozenset[str] | None = None
        self.categories: dict[str, CategoryInfo] = {}
        self.loaded_at = 0.0


_by_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _entry(session) -> _Entry:  # noqa: ANN001
    engine = session.bind.sync_engine if hasattr(session.bind, "sync_engine") else session.bind
    entry = _by_engine.get(engine)
    if entry is None:
        entry = _by_engine[engine] = _Entry()
    return entry


async def ward_exists(session, code: str) -> bool:  # noqa: ANN001
    """Whether `code` is one of the city's wards."""
    entry = _entry(session)
    if entry.wards is None or code not in entry.wards:
        # A miss re-reads (cheap, rare): a ward seeded after the first read is still found.
        entry.wards = frozenset((await session.scalars(select(Ward.code))).all())
    return code in entry.wards


async def category(session, code: str) -> CategoryInfo | None:  # noqa: ANN001
    """The category `code` as of at most CATEGORY_TTL_S seconds ago (None when unknown)."""
    entry = _entry(session)
    now = time.monotonic()
    if now - entry.loaded_at > CATEGORY_TTL_S or code not in entry.categories:
        rows = (await session.scalars(select(Category))).all()
        entry.categories = {row.code: CategoryInfo.of(row) for row in rows}
        entry.loaded_at = now
    return entry.categories.get(code)


def forget_categories(session) -> None:  # noqa: ANN001
    """Drop this process's copy after a catalogue change."""
    _entry(session).loaded_at = 0.0

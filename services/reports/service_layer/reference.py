"""Per-process cache of reference data read on every submission: wards and categories.

Wards are seeded reference data that only `setup` changes, so their codes are read once per
engine. Categories change when an operator edits the catalogue: this process drops its copy at
once (`forget_categories`, called by catalogue.upsert_category), other replicas within
CATEGORY_TTL_S seconds. Snapshots are plain values, never ORM instances shared across sessions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from services.reports.adapters.orm import Category, Ward
from servicekit.cache import TtlCache

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


_wards = TtlCache(float("inf"))
_categories = TtlCache(CATEGORY_TTL_S)


async def _ward_codes(session) -> frozenset[str]:  # noqa: ANN001
    return frozenset((await session.scalars(select(Ward.code))).all())


async def _all_categories(session) -> dict[str, CategoryInfo]:  # noqa: ANN001
    return {row.code: CategoryInfo.of(row) for row in (await session.scalars(select(Category))).all()}


async def ward_exists(session, code: str) -> bool:  # noqa: ANN001
    """Whether `code` is one of the city's wards."""
    if code in await _wards.get(session, "codes", lambda: _ward_codes(session)):
        return True
    # A miss re-reads (cheap, rare): a ward seeded after the first read is still found.
    _wards.clear()
    return code in await _wards.get(session, "codes", lambda: _ward_codes(session))


async def category(session, code: str) -> CategoryInfo | None:  # noqa: ANN001
    """The category `code` as of at most CATEGORY_TTL_S seconds ago (None when unknown)."""
    found = (await _categories.get(session, "all", lambda: _all_categories(session))).get(code)
    if found is None:   # created meanwhile by another replica? read again rather than refuse
        _categories.clear()
        found = (await _categories.get(session, "all", lambda: _all_categories(session))).get(code)
    return found


def forget_categories(session) -> None:  # noqa: ANN001
    """Drop this process's copy after a catalogue change."""
    _categories.clear()

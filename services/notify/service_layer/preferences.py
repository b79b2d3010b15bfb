"""Loading and saving a person's preferences (language lives on the recipient projection)."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime

from sqlalchemy import bindparam, select

from services.notify.adapters.orm import Preference, Recipient
from services.notify.domain import preferences as prefs_model
from services.notify.domain.preferences import Preferences
from services.notify.service_layer.unit_of_work import core


IN_CHUNK = 500  # ids per IN (...) list: well below SQLite's and asyncpg's parameter limits
# load_many runs for every notified event: its statements are built once
_WITH_RECIPIENT = (select(Recipient.user_id, Recipient.language, Preference.user_id.label("chosen"),
                          Preference.channels, Preference.quiet_start, Preference.quiet_end, Preference.timezone)
                   .outerjoin(Preference, Preference.user_id == Recipient.user_id)
                   .where(Recipient.user_id.in_(bindparam("ids", expanding=True))))
_STRAYS = select(Preference.user_id, Preference.channels, Preference.quiet_start, Preference.quiet_end,
                 Preference.timezone).where(Preference.user_id.in_(bindparam("ids", expanding=True)))


@functools.lru_cache(maxsize=256)
def _channels(stored: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The stored channels JSON parsed (cached: most people share a handful of choices)."""
    return tuple((g, tuple(c)) for g, c in json.loads(stored or "{}").items())


def _preferences(language: str | None, row) -> Preferences:  # noqa: ANN001
    """Preferences from the language on the recipient (None: unknown) and the stored row (or None)."""
    language = "vi" if language is None else language
    if row is None:
        return Preferences(language=language)
    channels = dict(_channels(row.channels))
    return Preferences(language=language, channels=channels, quiet_start=row.quiet_start,
                       quiet_end=row.quiet_end, timezone=row.timezone)


async def load(session, user_id: str) -> Preferences:  # noqa: ANN001
    """The person's preferences; defaults for anything never chosen."""
    recipient = await session.get(Recipient, user_id)
    return _preferences(recipient.language if recipient else None, await session.get(Preference, user_id))


async def load_many(session, user_ids: list[str]) -> dict[str, Preferences]:  # noqa: ANN001
    """`load` for many people: one query per IN_CHUNK of them (consumers notify groups)."""
    languages, rows = {}, {}
    conn = await core(session)
    for i in range(0, len(user_ids), IN_CHUNK):
        chunk = user_ids[i:i + IN_CHUNK]
        found = (await conn.execute(_WITH_RECIPIENT, {"ids": chunk})).all()
        languages.update((r.user_id, r.language) for r in found)
        rows.update((r.user_id, r) for r in found if r.chosen is not None)
        # preferences are saved with a recipient row, but look for strays rather than assume it
        if strays := [u for u in chunk if u not in languages]:
            rows.update((r.user_id, r) for r in (await conn.execute(_STRAYS, {"ids": strays})).all())
    return {u: _preferences(languages.get(u), rows.get(u)) for u in user_ids}


async def update(uow, user_id: str, **changes) -> Preferences:  # noqa: ANN001, ANN003
    """Validate and store changes (see domain.preferences.updated); commits."""
    new = prefs_model.updated(await load(uow.session, user_id), **changes)
    row = await uow.session.get(Preference, user_id) or Preference(user_id=user_id)
    row.channels = json.dumps({g: list(c) for g, c in new.channels.items()})
    row.quiet_start, row.quiet_end, row.timezone = new.quiet_start, new.quiet_end, new.timezone
    row.updated_at = datetime.now(UTC)
    uow.session.add(row)
    recipient = await uow.session.get(Recipient, user_id) or Recipient(
        user_id=user_id, role="citizen", agency_code="", home_ward_code="")
    recipient.language = new.language
    uow.session.add(recipient)
    await uow.commit()
    return new

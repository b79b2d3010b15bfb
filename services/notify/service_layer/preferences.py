"""Loading and saving a person's preferences (language lives on the recipient projection)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.notify.adapters.orm import Preference, Recipient
from services.notify.domain import preferences as prefs_model
from services.notify.domain.preferences import Preferences


async def load(session, user_id: str) -> Preferences:  # noqa: ANN001
    """The person's preferences; defaults for anything never chosen."""
    recipient = await session.get(Recipient, user_id)
    row = await session.get(Preference, user_id)
    language = recipient.language if recipient else "vi"
    if row is None:
        return Preferences(language=language)
    channels = {g: tuple(c) for g, c in json.loads(row.channels or "{}").items()}
    return Preferences(language=language, channels=channels, quiet_start=row.quiet_start,
                       quiet_end=row.quiet_end, timezone=row.timezone)


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

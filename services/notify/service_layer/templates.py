"""Templates in the database: the current version per slot, new versions, rendering.

Rendering reads the current version of every slot from a per-process cache (one query per
CACHE_SECONDS instead of up to four per message): `put` in this process drops it, so this
process renders a new version at once; other replicas within CACHE_SECONDS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from services.notify.adapters.orm import Template
from services.notify.domain.errors import UnknownMessageType
from services.notify.domain.templates import DEFAULTS, check_template, render_text
from servicekit.cache import TtlCache

CACHE_SECONDS = 5.0
_current = TtlCache(CACHE_SECONDS)


@dataclass(frozen=True)
class Text:
    """The current version of one slot (a snapshot, safe to share between sessions)."""

    subject: str
    body: str
    version: int
    language: str


@dataclass(frozen=True)
class Rendered:
    """A filled template and the version it came from."""

    subject: str
    body: str
    version: int
    language: str


async def current_texts(session) -> dict[tuple[str, str, str], Text]:  # noqa: ANN001
    """(message type, channel, language) -> its current version, cached for CACHE_SECONDS."""
    async def load() -> dict[tuple[str, str, str], Text]:
        return {(t.message_type, t.channel, t.language): Text(t.subject, t.body, t.version, t.language)
                for t in await list_current(session)}
    return await _current.get(session, "all", load)


def forget_cached() -> None:
    """Drop this process's cached templates (after a change)."""
    _current.clear()


def pick(texts: dict[tuple[str, str, str], Text], message_type: str, channel: str, language: str) -> Text:
    """From `current_texts`: the channel's own template, else the inbox text; the language's own, else vi."""
    for chan in dict.fromkeys((channel, "inbox")):
        for lang in dict.fromkeys((language, "vi")):
            if tpl := texts.get((message_type, chan, lang)):
                return tpl
    raise UnknownMessageType(f"no template for {message_type}/{channel}")


def fill(tpl: Text, values: dict[str, str]) -> Rendered:
    """Render one template with `values`; a missing value is an error."""
    subject, body = render_text(tpl.subject, tpl.body, values)
    return Rendered(subject, body, tpl.version, tpl.language)


async def resolve(session, message_type: str, channel: str, language: str) -> Text:  # noqa: ANN001
    """The template to use: the channel's own, else the inbox text; the language's own, else vi."""
    return pick(await current_texts(session), message_type, channel, language)


async def render(session, message_type: str, channel: str, language: str,  # noqa: ANN001
                 values: dict[str, str]) -> Rendered:
    """Render the current template of a slot in `language`; a missing value is an error."""
    return fill(await resolve(session, message_type, channel, language), values)


async def put(session, *, message_type: str, channel: str, language: str, subject: str, body: str,  # noqa: ANN001
              author: str, now: datetime | None = None) -> Template:
    """Validate and store the next version of a slot."""
    check_template(message_type, channel, language, subject, body)
    latest = await session.scalar(select(func.max(Template.version)).where(
        Template.message_type == message_type, Template.channel == channel, Template.language == language))
    row = Template(message_type=message_type, channel=channel, language=language, version=(latest or 0) + 1,
                   subject=subject, body=body, created_by=author, created_at=now or datetime.now(UTC))
    session.add(row)
    await session.flush()
    forget_cached()  # again after the commit (servicer): a reload in between may have kept the old one
    return row


async def list_current(session, message_type: str = "") -> list[Template]:  # noqa: ANN001
    """The current version of every slot (optionally of one message type)."""
    latest = (select(Template.message_type, Template.channel, Template.language,
                     func.max(Template.version).label("version"))
              .group_by(Template.message_type, Template.channel, Template.language).subquery())
    q = select(Template).join(latest, (Template.message_type == latest.c.message_type)
                              & (Template.channel == latest.c.channel) & (Template.language == latest.c.language)
                              & (Template.version == latest.c.version))
    if message_type:
        q = q.where(Template.message_type == message_type)
    q = q.order_by(Template.message_type, Template.channel, Template.language)
    return list((await session.scalars(q)).all())


async def ensure_defaults(uow) -> int:  # noqa: ANN001
    """Store version 1 of every shipped template whose slot is still empty; returns how many."""
    existing = set((await uow.session.execute(
        select(Template.message_type, Template.channel, Template.language).distinct())).all())
    added = 0
    for (message_type, channel, language), (subject, body) in DEFAULTS.items():
        if (message_type, channel, language) not in existing:
            await put(uow.session, message_type=message_type, channel=channel, language=language,
                      subject=subject, body=body, author="system")
            added += 1
    await uow.commit()
    forget_cached()
    return added

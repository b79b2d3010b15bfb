"""The caller's notification preferences (NotifyService)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from congdanso.notify.v1 import notify_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem

router = APIRouter(prefix="/api/v1", tags=["preferences"], responses={401: {"model": Problem}})
BackendsDep = Annotated[Backends, Depends(backends)]

Group = Literal["reports", "agency", "announcements", "urgent", "security"]
Channel = Literal["inbox", "email", "sms", "push"]
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class GroupChannelsOut(BaseModel):
    """Channels of one message group; locked groups (urgent, security) cannot be switched off."""

    group: Group
    channels: list[Channel]
    locked: bool


class PreferencesOut(BaseModel):
    """Language, channels per message group and quiet hours (email and SMS wait; urgent ones do not)."""

    language: Literal["vi", "en"]
    groups: list[GroupChannelsOut]
    quiet_hours_start: str = Field(examples=["22:00"])
    quiet_hours_end: str = Field(examples=["07:00"])
    timezone: str = Field(examples=["Asia/Ho_Chi_Minh"])


class PreferencesIn(BaseModel):
    """Changes only: fields left out, and groups not listed, stay as they are."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "language": "en", "channels": {"reports": ["email"]}, "quiet_hours_start": "22:30"}]})

    language: Literal["vi", "en"] | None = None
    channels: dict[Group, list[Channel]] = Field(default_factory=dict)
    quiet_hours_start: str | None = Field(default=None, pattern=HHMM)
    quiet_hours_end: str | None = Field(default=None, pattern=HHMM)
    timezone: str | None = Field(default=None, max_length=64)


def preferences_out(p: notify_pb2.Preferences) -> PreferencesOut:
    """Proto -> JSON."""
    return PreferencesOut(
        language=p.language, quiet_hours_start=p.quiet_hours_start, quiet_hours_end=p.quiet_hours_end,
        timezone=p.timezone,
        groups=[GroupChannelsOut(group=g.group, channels=list(g.channels), locked=g.locked) for g in p.groups])


@router.get("/me/preferences")
async def get_preferences(caller: CurrentPrincipal, clients: BackendsDep) -> PreferencesOut:
    """The caller's notification preferences (defaults where never chosen)."""
    reply = await clients.call(clients.notify.GetPreferences, notify_pb2.GetPreferencesRequest(), token=caller.token)
    return preferences_out(reply)


@router.put("/me/preferences", responses={400: {"model": Problem, "description": "preference_locked, "
                                                                               "preferences_invalid"}})
async def put_preferences(body: PreferencesIn, caller: CurrentPrincipal, clients: BackendsDep) -> PreferencesOut:
    """Change language, channels per group or quiet hours."""
    prefs = notify_pb2.Preferences(
        language=body.language or "", quiet_hours_start=body.quiet_hours_start or "",
        quiet_hours_end=body.quiet_hours_end or "", timezone=body.timezone or "",
        groups=[notify_pb2.GroupChannels(group=g, channels=c) for g, c in body.channels.items()])
    reply = await clients.call(clients.notify.UpdatePreferences,
                               notify_pb2.UpdatePreferencesRequest(preferences=prefs), token=caller.token)
    return preferences_out(reply)

"""Message types, the groups people choose channels for, and which of them are urgent."""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ("inbox", "email", "sms", "push")
TEMPLATE_CHANNELS = ("inbox", "email", "sms")   # push uses the inbox text
LANGUAGES = ("vi", "en")


@dataclass(frozen=True)
class Group:
    """A group of messages a person chooses channels for."""

    name: str
    default_channels: tuple[str, ...]
    locked: bool = False   # urgent and security: cannot be switched off


GROUPS: dict[str, Group] = {g.name: g for g in (
    Group("reports", ("inbox",)),               # what happens to reports I filed or follow
    Group("agency", ("inbox",)),                # officers: work for my agency
    Group("announcements", ("inbox",)),
    Group("urgent", ("inbox", "sms"), locked=True),
    Group("security", ("sms",), locked=True),
)}


@dataclass(frozen=True)
class MessageType:
    """One kind of message: its group, urgency and the placeholders its templates may use."""

    name: str
    group: str
    placeholders: frozenset[str]
    urgent: bool = False


def _t(name: str, group: str, *names: str, urgent: bool = False) -> MessageType:
    return MessageType(name, group, frozenset(names), urgent)


MESSAGE_TYPES: dict[str, MessageType] = {m.name: m for m in (
    _t("report_submitted", "reports", "short_id"),
    _t("report_assigned", "reports", "short_id", "agency_name", "due"),
    _t("report_acknowledged", "reports", "short_id", "agency_name"),
    _t("report_resolved", "reports", "short_id", "note"),
    _t("report_closed", "reports", "short_id"),
    _t("report_rejected", "reports", "short_id", "reason"),
    _t("report_status_changed", "reports", "short_id", "status"),
    _t("report_commented", "reports", "short_id"),
    _t("report_merged", "reports", "short_id", "parent_short_id"),
    _t("agency_new_assignment", "agency", "short_id", "due"),
    _t("agency_report_commented", "agency", "short_id"),
    _t("agency_report_reopened", "agency", "short_id"),
    _t("sla_warning", "urgent", "short_id", "deadline", "due", urgent=True),
    _t("report_escalated", "urgent", "short_id", "agency_code", "deadline", "due", urgent=True),
    _t("otp", "security", "code", urgent=True),
)}


def message_type(name: str) -> MessageType:
    """The registered message type `name` (KeyError when unknown)."""
    return MESSAGE_TYPES[name]

"""Routing tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON, BigInteger, Boolean, Date, DateTime, Float, Index, Integer, String, TypeDecorator, false, true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.idempotency import idempotency_table
from servicekit.inbox import inbox_table
from servicekit.outbox import outbox_table


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes on both backends (SQLite keeps no offset: store UTC, read back as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001, ANN201
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):  # noqa: ANN001, ANN201
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base of the routing database."""


class Agency(Base):
    __tablename__ = "agencies"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    parent_code: Mapped[str | None] = mapped_column(String(40))
    ward_code: Mapped[str | None] = mapped_column(String(5), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    contact: Mapped[str] = mapped_column(String(200), default="", server_default="")


class RoutingRule(Base):
    """One version of a rule; a change inserts a new version and un-marks the old one as current.

    `active` marks the current version of a rule; `enabled` False on the current version retires it.
    """

    __tablename__ = "rules"
    id: Mapped[str] = mapped_column(String(60), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str | None] = mapped_column(String(20))
    category_code: Mapped[str | None] = mapped_column(String(60))
    category_group: Mapped[str | None] = mapped_column(String(40))
    ward_codes: Mapped[list | None] = mapped_column(JSON)
    agency_code: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    note: Mapped[str] = mapped_column(String(300), default="", server_default="")


class CategoryGroup(Base):
    """A category group the city files reports under; every active one needs a city-wide rule."""

    __tablename__ = "category_groups"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Sla(Base):
    """Deadline of a category group (scope 'group') or an urgent category (scope 'category')."""

    __tablename__ = "slas"
    scope: Mapped[str] = mapped_column(String(10), primary_key=True)
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    ack_hours: Mapped[float] = mapped_column(Float)
    resolve_hours: Mapped[float] = mapped_column(Float)
    calendar: Mapped[str] = mapped_column(String(10), default="working")


class CalendarDay(Base):
    """A city decision: an extra day off (working=False) or a make-up working day (working=True)."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")


class Assignment(Base):
    __tablename__ = "assignments"
    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40), index=True)
    rule_id: Mapped[str] = mapped_column(String(60), default="")
    rule_version: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(300), default="")
    category_code: Mapped[str] = mapped_column(String(60))
    ward_code: Mapped[str] = mapped_column(String(5), default="")
    assigned_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ack_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolve_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    triage: Mapped[bool] = mapped_column(Boolean, default=False)
    kind: Mapped[str] = mapped_column(String(20), default="", server_default="")
    category_group: Mapped[str] = mapped_column(String(40), default="", server_default="")
    report_status: Mapped[str] = mapped_column(String(20), default="assigned", server_default="assigned")


class SlaClockRow(Base):
    """The scheduler's durable state: one clock per assignment deadline; `next_at` is when it is due."""

    __tablename__ = "sla_clocks"
    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    deadline: Mapped[str] = mapped_column(String(10), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    warn_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_to: Mapped[str] = mapped_column(String(40), default="")
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_sla_clocks_next_at", "next_at"),)


class TransferRow(Base):
    """A recorded transfer of a report between agencies."""

    __tablename__ = "transfers"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    report_id: Mapped[str] = mapped_column(String(36), index=True)
    from_agency_code: Mapped[str] = mapped_column(String(40))
    to_agency_code: Mapped[str] = mapped_column(String(40))
    requested_agency_code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)
idempotency = idempotency_table(Base.metadata)

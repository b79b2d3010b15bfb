"""Routing tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.inbox import inbox_table
from servicekit.outbox import outbox_table


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


class RoutingRule(Base):
    """One version of a rule; a change inserts a new version and deactivates the old one."""

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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


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
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ack_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolve_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    triage: Mapped[bool] = mapped_column(Boolean, default=False)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)

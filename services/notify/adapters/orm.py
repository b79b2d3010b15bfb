"""Notify tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.inbox import inbox_table
from servicekit.outbox import outbox_table


class Base(DeclarativeBase):
    """Declarative base of the notify database."""


class Recipient(Base):
    """Projection of identity's users: what notify needs to address someone (no contact data yet)."""

    __tablename__ = "recipients"
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    language: Mapped[str] = mapped_column(String(2), default="vi")
    role: Mapped[str] = mapped_column(String(20), default="citizen")
    agency_code: Mapped[str] = mapped_column(String(40), default="", index=True)
    home_ward_code: Mapped[str] = mapped_column(String(5), default="")


class Notification(Base):
    """An in-app inbox item."""

    __tablename__ = "notifications"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    report_id: Mapped[str] = mapped_column(String(36), default="")
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_notifications_user_id_id", "user_id", "id"),)


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)

"""Notify tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.idempotency import idempotency_table
from servicekit.inbox import inbox_table
from servicekit.outbox import outbox_table


class Base(DeclarativeBase):
    """Declarative base of the notify database."""


class Recipient(Base):
    """Projection of identity's users: what notify needs to address someone (no contact data)."""

    __tablename__ = "recipients"
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    language: Mapped[str] = mapped_column(String(2), default="vi")
    role: Mapped[str] = mapped_column(String(20), default="citizen")
    agency_code: Mapped[str] = mapped_column(String(40), default="", index=True)
    home_ward_code: Mapped[str] = mapped_column(String(5), default="")

    # announcement fan-out walks one ward's residents in user_id order
    __table_args__ = (Index("ix_recipients_ward_user", "home_ward_code", "user_id"),)


class Preference(Base):
    """A person's channels per group (JSON) and quiet hours; language lives on Recipient."""

    __tablename__ = "preferences"
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    channels: Mapped[str] = mapped_column(Text, default="{}")
    quiet_start: Mapped[str] = mapped_column(String(5), default="22:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="07:00")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """An in-app inbox item; the template version it was rendered from is kept."""

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
    template_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    announcement_id: Mapped[str] = mapped_column(String(36), default="", server_default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (Index("ix_notifications_user_id_id", "user_id", "id"),)


class Delivery(Base):
    """One notification on one channel; `status` moves only by conditional updates."""

    __tablename__ = "deliveries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    notification_id: Mapped[str] = mapped_column(String(36))
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    message_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    template_version: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    destination: Mapped[str] = mapped_column(String(120), default="")   # masked
    rate_key: Mapped[str] = mapped_column(String(32), default="")
    provider_ref: Mapped[str] = mapped_column(String(120), default="")
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("notification_id", "channel", name="uq_deliveries_notification_channel"),
        Index("ix_deliveries_due", "status", "not_before"),
        Index("ix_deliveries_rate", "rate_key", "created_at"),
    )


class Template(Base):
    """One version of the text for message type x channel x language (rows are never changed)."""

    __tablename__ = "templates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_type: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(2))
    version: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("message_type", "channel", "language", "version", name="uq_templates_version"),)


class Follower(Base):
    """Projection of reports.v1.report_followed."""

    __tablename__ = "followers"
    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class TrackedReport(Base):
    """Who filed a report and which agency has it (from report events), to address later events."""

    __tablename__ = "tracked_reports"
    report_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reporter_id: Mapped[str] = mapped_column(String(36), default="", index=True)
    agency_code: Mapped[str] = mapped_column(String(40), default="")


class Announcement(Base):
    """A broadcast to the city or some wards; fanned out to inbox items in chunks."""

    __tablename__ = "announcements"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    title_vi: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_vi: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    ward_codes: Mapped[str] = mapped_column(Text, default="")          # comma-separated; "" = city-wide
    created_by: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(100), default="")
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fanout_status: Mapped[str] = mapped_column(String(10), default="pending")
    fanout_after: Mapped[str] = mapped_column(String(36), default="")   # last user_id written
    recipients: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_announcements_fanout", "fanout_status"),
                      Index("ix_announcements_idem", "created_by", "idempotency_key"))




class WebhookSubscription(Base):
    """An integration client's endpoint and the event types it wants."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))
    event_types: Mapped[str] = mapped_column(Text)                      # comma-separated subjects
    agency_code: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One event to one subscription; status moves by conditional updates like Delivery."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))   # retries are bounded from here
    last_status_code: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_event"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_sub_id", "subscription_id", "id"),
    )


class WebhookAttempt(Base):
    """The delivery log: one row per HTTP attempt."""

    __tablename__ = "webhook_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(36), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(300), default="")


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)
idempotency = idempotency_table(Base.metadata)

"""Reports tables."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.idempotency import idempotency_table
from servicekit.inbox import inbox_table
from servicekit.outbox import outbox_table


class Base(DeclarativeBase):
    """Declarative base of the reports database."""


# reports_fts (SQLite FTS5) and the PostgreSQL GIN index are created by hand in migration 0002
# (reports_fts refiled under id-derived rowids in 0005).
Base.metadata.info["unmanaged"] = ("reports_fts", "ix_reports_search")


class Category(Base):
    __tablename__ = "categories"
    code: Mapped[str] = mapped_column(String(60), primary_key=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    group: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    photo_required: Mapped[bool] = mapped_column(Boolean, default=False)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    description_vi: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    attributes: Mapped[list] = mapped_column(JSON, default=list)   # domain.attributes.Attribute dicts
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Ward(Base):
    __tablename__ = "wards"
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    division_type: Mapped[str] = mapped_column(String(20))


class Report(Base):
    __tablename__ = "reports"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    category_group: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    ward_code: Mapped[str | None] = mapped_column(ForeignKey("wards.code"))
    address: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20))
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    reporter_id: Mapped[str] = mapped_column(String(64))          # indexed by ix_reports_reporter_id_id
    agency_code: Mapped[str] = mapped_column(String(40), default="")  # by ix_reports_agency_status_due
    agency_name_vi: Mapped[str] = mapped_column(String(200), default="")
    agency_name_en: Mapped[str] = mapped_column(String(200), default="")
    ack_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolve_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reject_reason: Mapped[str] = mapped_column(String(20), default="")
    rating: Mapped[int] = mapped_column(Integer, default=0)
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    followers: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)
    merged_into: Mapped[str] = mapped_column(String(36), default="")
    search_text: Mapped[str] = mapped_column(Text, default="")  # folded (no diacritics) for search
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)  # the category's extra fields

    __table_args__ = (
        Index("ix_reports_status_submitted", "status", "submitted_at"),
        # Feed pages walk id order; the filter columns ride along so misses skip the table lookup.
        Index("ix_reports_feed", "visibility", "id", "status", "ward_code", "category_code", "kind", "submitted_at",
              "latitude", "longitude"),
        Index("ix_reports_agency_status_due", "agency_code", "status", "resolve_due_at"),
        Index("ix_reports_reporter_id_id", "reporter_id", "id"),
        Index("ix_reports_ward_submitted", "ward_code", "submitted_at"),
        Index("ix_reports_resolved_status", "status", "resolved_at"),
        # Stats read partial days and cross-dimension filters from reports through this index alone.
        Index("ix_reports_period", "submitted_at", "agency_code", "ward_code", "category_code", "status",
              "resolved_at", "resolve_due_at", "rating"),
    )
    __mapper_args__ = {"version_id_col": version}


class ReportStatsDaily(Base):
    """What queries.stats sums, per day of submission (UTC) and per agency, ward or category.

    Kept in step with reports by adapters/rollup.py, in the transaction that changes a report."""

    __tablename__ = "report_stats_daily"
    dim: Mapped[str] = mapped_column(String(10), primary_key=True)    # agency | ward | category
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(60), primary_key=True)    # '' when the report has none
    n_submitted: Mapped[int] = mapped_column(Integer, default=0)      # reports now in each status
    n_assigned: Mapped[int] = mapped_column(Integer, default=0)
    n_in_progress: Mapped[int] = mapped_column(Integer, default=0)
    n_resolved: Mapped[int] = mapped_column(Integer, default=0)
    n_closed: Mapped[int] = mapped_column(Integer, default=0)
    n_rejected: Mapped[int] = mapped_column(Integer, default=0)
    n_withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)         # with a resolved_at
    on_time: Mapped[int] = mapped_column(Integer, default=0)          # ... by resolve_due_at (or none set)
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    durations: Mapped[str] = mapped_column(Text, default="")          # resolved ones' microseconds (rollup.encode)


class TimelineEntry(Base):
    __tablename__ = "timeline"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[str] = mapped_column(String(64), default="")
    actor_role: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Comment(Base):
    __tablename__ = "comments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"))
    author_id: Mapped[str] = mapped_column(String(64))
    author_role: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_comments_report_id_id", "report_id", "id"),)


class Follow(Base):
    __tablename__ = "follows"
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Media(Base):
    """An uploaded, cleaned photo; bytes live in the media store under `<id>` and `<id>-thumb`."""

    __tablename__ = "media"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    uploader_id: Mapped[str] = mapped_column(String(64), index=True)
    report_id: Mapped[str | None] = mapped_column(ForeignKey("reports.id"), index=True)
    content_type: Mapped[str] = mapped_column(String(20))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    reporter_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


outbox = outbox_table(Base.metadata)
inbox = inbox_table(Base.metadata)
idempotency = idempotency_table(Base.metadata)

# Registers the roll-up maintenance on Report (after the classes it uses, hence at the end).
from services.reports.adapters import rollup  # noqa: E402, F401

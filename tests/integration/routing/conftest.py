"""A migrated, seeded routing database and helpers to drive handlers with a pinned clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select

from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from congdanso.routing.v1 import events_pb2
from services.routing.adapters.orm import outbox
from services.routing.adapters.seed import load_reference_data
from services.routing.service_layer import handlers
from services.routing.service_layer.unit_of_work import RoutingUnitOfWork
from servicekit import migrate
from servicekit.auth import Principal
from servicekit.db import make_engine, session_factory
from servicekit.events import Event, ReceivedEvent
from tests.conftest import _run

MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "routing" / "migrations"
T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 09:00 in Ho Chi Minh City
BEN_THANH = "26743"
OFFICER = Principal(user_id="u-officer", role="officer", agency_code="ubnd_26743")
OPERATOR = Principal(user_id="u-operator", role="operator")
EVENT_TYPES = {m.DESCRIPTOR.full_name: m for m in (events_pb2.ReportAssigned, events_pb2.ReportTransferred,
                                                   events_pb2.SlaWarning, events_pb2.ReportEscalated,
                                                   events_pb2.TriageNeeded)}


@pytest.fixture
def routing_url(database_url):
    """A routing database at head with the reference data loaded."""
    url = database_url("routing")
    migrate.upgrade(MIGRATIONS, url)
    _run(load_reference_data(url))
    return url


class Env:
    """Engine + unit-of-work factory over one routing database."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = session_factory(self.engine)

    def uow(self, *, read_only: bool = False) -> RoutingUnitOfWork:
        return RoutingUnitOfWork(self.sessions, outbox, read_only=read_only)

    async def events(self, name: str | None = None) -> list:
        """Outbox events in order, decoded; only those of `name` (e.g. 'SlaWarning') if given."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(outbox).order_by(outbox.c.seq))).all()
        out = []
        for row in rows:
            cls = EVENT_TYPES[row.event_type]
            if name is None or cls.__name__ == name:
                msg = cls()
                msg.ParseFromString(row.payload)
                out.append(msg)
        return out

    async def submit(self, report_id: str, category_code: str = "flooding", category_group: str = "drainage",
                     ward_code: str = BEN_THANH, kind: int = reports_pb2.REPORT_KIND_INCIDENT,
                     at: datetime = T0) -> None:
        """Apply a report_submitted event as the consumer would (handler + commit)."""
        msg = reports_events.ReportSubmitted(report_id=report_id, kind=kind, category_code=category_code,
                                             category_group=category_group, ward_code=ward_code)
        async with self.uow() as uow:
            await handlers.assign_submitted(received(msg), uow, now=lambda: at)
            await uow.commit()

    async def status(self, report_id: str, before: str, after: str, actor_role: str = "officer",
                     at: datetime = T0) -> None:
        """Apply a report_status_changed event."""
        msg = reports_events.ReportStatusChanged(
            report_id=report_id, from_status=reports_pb2.ReportStatus.Value(f"REPORT_STATUS_{before.upper()}"),
            to_status=reports_pb2.ReportStatus.Value(f"REPORT_STATUS_{after.upper()}"), actor_role=actor_role)
        async with self.uow() as uow:
            await handlers.apply_status_change(received(msg), uow, now=lambda: at)
            await uow.commit()


def received(msg) -> ReceivedEvent:  # noqa: ANN001
    """A reports event as the consumer hands it to a handler."""
    event = Event.of("reports", msg)
    return ReceivedEvent(id=event.id, subject=event.subject, event_type=event.event_type, payload=event.payload,
                         headers={})


@pytest_asyncio.fixture
async def env(routing_url):
    e = Env(routing_url)
    yield e
    await e.engine.dispose()

"""Notify integration fixtures: a migrated notify database, a contacts directory database, real
SMTP (aiosmtpd) and HTTP receivers, a settable clock and small builders."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import MetaData, select

from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from services.notify.adapters.contacts import SqlContactDirectory, contacts_table
from services.notify.adapters.orm import Delivery, Notification, Recipient, outbox
from services.notify.service_layer import templates
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork
from servicekit import migrate
from servicekit.db import make_engine, session_factory
from servicekit.events import Event, ReceivedEvent, new_id
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


class Clock:
    """A clock tests move by hand (UTC-aware)."""

    def __init__(self, at: datetime):
        self.now = at

    def __call__(self) -> datetime:
        return self.now

    def local(self, hour: int, minute: int = 0, day: int = 10) -> None:
        """Set the clock to a Ho Chi Minh City wall time."""
        self.now = datetime(2026, 3, day, hour, minute, tzinfo=HCM).astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class NotifyDb:
    """The migrated notify database plus a unit-of-work factory and query helpers."""

    def __init__(self, url: str):
        self.engine = make_engine(url)
        self.sessions = session_factory(self.engine)

    def uow(self, *, read_only: bool = False) -> NotifyUnitOfWork:
        return NotifyUnitOfWork(self.sessions, outbox, read_only=read_only)

    async def add(self, *rows: object) -> None:
        async with self.uow() as uow:
            uow.session.add_all(rows)
            await uow.commit()

    async def all(self, model, *where) -> list:  # noqa: ANN001
        async with self.uow() as uow:
            return list((await uow.session.scalars(select(model).where(*where))).all())

    async def deliveries(self, *where) -> list[Delivery]:  # noqa: ANN002
        return await self.all(Delivery, *where)

    async def inbox(self, user_id: str) -> list[Notification]:
        return await self.all(Notification, Notification.user_id == user_id)

    async def events(self, subject: str) -> list:
        async with self.engine.connect() as conn:
            return list((await conn.execute(select(outbox).where(outbox.c.subject == subject))).all())


def migrated(database_url, name: str) -> str:  # noqa: ANN001
    """A fresh notify database (by the `database_url` factory), migrated."""
    url = database_url(name)
    migrate.upgrade(ROOT / "services" / "notify" / "migrations", url)
    return url


@contextlib.asynccontextmanager
async def opened(url: str) -> AsyncIterator[NotifyDb]:
    """A NotifyDb on `url` with the default templates, disposed after."""
    d = NotifyDb(url)
    async with d.uow() as uow:
        await templates.ensure_defaults(uow)
    try:
        yield d
    finally:
        await d.engine.dispose()


@pytest.fixture
def notify_url(database_url) -> str:  # noqa: ANN001
    return migrated(database_url, "notify")


@pytest.fixture
async def db(notify_url):
    async with opened(notify_url) as d:
        yield d


class Directory:
    """A contact directory backed by a table in its own database (stands in for identity)."""

    def __init__(self, url: str):
        self.metadata = MetaData()
        self.table = contacts_table(self.metadata)
        self.engine = make_engine(url)
        self.directory = SqlContactDirectory(self.engine, self.table)

    async def put(self, user_id: str, *, email: str = "", phone: str = "") -> None:
        async with self.engine.begin() as conn:
            await conn.execute(self.table.insert().values(user_id=user_id, email=email, phone=phone))


@pytest.fixture
async def directory(database_url):
    d = Directory(database_url("directory"))
    async with d.engine.begin() as conn:
        await conn.run_sync(d.metadata.create_all)
    yield d
    await d.engine.dispose()


@pytest.fixture
def clock() -> Clock:
    c = Clock(datetime(2026, 3, 10, 3, 0, tzinfo=UTC))   # 10:00 in Ho Chi Minh City
    return c


class Mailbox:
    """aiosmtpd handler collecting messages; refuses recipients at refused.example."""

    def __init__(self):
        self.messages: list = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001, N802
        if address.endswith("@refused.example"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free port; yields (mailbox, port)."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()


@dataclass
class HttpReceiver:
    """A real local HTTP server answering with scripted statuses and recording requests."""

    statuses: list[int] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)
    url: str = ""

    def next_status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def http_receiver():
    receiver = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = receiver.next_status()
            payload = json.dumps({"id": f"prov-{len(receiver.requests)}"}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    yield receiver
    server.shutdown()
    server.server_close()


# ---- builders ---------------------------------------------------------------------------------

def recipient(user_id: str | None = None, *, language: str = "vi", role: str = "citizen", agency: str = "",
              ward: str = "26743") -> Recipient:
    return Recipient(user_id=user_id or new_id(), language=language, role=role, agency_code=agency,
                     home_ward_code=ward)


def received(message, service: str, event_id: str | None = None) -> ReceivedEvent:  # noqa: ANN001
    """A consumer-side event for a protobuf event message."""
    e = Event.of(service, message)
    return ReceivedEvent(id=event_id or e.id, subject=e.subject, event_type=e.event_type, payload=e.payload,
                         headers={})


def assigned_event(reporter_id: str, report_id: str | None = None, agency: str = "ubnd_26743",
                   from_status=reports_pb2.REPORT_STATUS_SUBMITTED) -> reports_events.ReportStatusChanged:  # noqa: ANN001
    from congdanso.common.v1 import common_pb2
    msg = reports_events.ReportStatusChanged(
        report_id=report_id or new_id(), from_status=from_status, to_status=reports_pb2.REPORT_STATUS_ASSIGNED,
        reporter_id=reporter_id, agency_code=agency,
        agency_name=common_pb2.LocalizedText(vi="UBND phường Bến Thành", en="Ben Thanh Ward People's Committee"))
    msg.resolve_due_at.FromDatetime(datetime(2026, 3, 12, 10, 0, tzinfo=UTC))
    return msg

"""Event handlers through the real inbox consumer: who hears what, projections, erasure, and a
redelivered NATS event that changes nothing."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from sqlalchemy import func, select

from congdanso.identity.v1 import events_pb2 as identity_events
from congdanso.notify.v1 import events_pb2 as notify_events
from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.reports.v1 import reports_pb2
from congdanso.routing.v1 import events_pb2 as routing_events
from services.notify.adapters.orm import (
    Delivery, Follower, Notification, Preference, Recipient, TrackedReport, inbox, outbox,
)
from services.notify.service_layer import handlers, preferences
from servicekit import natsio
from servicekit.events import Event
from servicekit.inbox import Consumer
from servicekit.outbox import OutboxRelay
from tests.integration.notify.conftest import assigned_event, received, recipient


def consumer(db, handler, purpose="test", js=None) -> Consumer:  # noqa: ANN001
    return Consumer(js, service="notify", purpose=purpose, stream="REPORTS", subjects=["reports.>"],
                    handler=handler, uow_factory=db.uow, inbox=inbox)


async def apply(db, handler, message, service):  # noqa: ANN001, ANN201
    event = received(message, service)
    assert await consumer(db, handler).apply(event)
    return event


async def types_of(db, user_id: str) -> list[str]:
    return sorted(n.type for n in await db.inbox(user_id))


async def test_user_registered_builds_the_projection_and_user_deleted_erases_it(db):
    await apply(db, handlers.project_user, identity_events.UserRegistered(
        user_id="u-1", role="citizen", language="en", home_ward_code="26743"), "identity")
    async with db.uow() as uow:
        await preferences.update(uow, "u-1", channels={"reports": ["email"]})
    await apply(db, handlers.on_report_submitted, reports_events.ReportSubmitted(
        report_id="r-1000000001", reporter_id="u-1"), "reports")
    await apply(db, handlers.on_status_changed, assigned_event("u-1", "r-1000000001"), "reports")
    await apply(db, handlers.on_report_activity, reports_events.ReportFollowed(
        report_id="r-1000000002", user_id="u-1"), "reports")
    [item, _] = sorted(await db.inbox("u-1"), key=lambda n: n.type)
    assert item.title == "Report assigned"
    await apply(db, handlers.erase_user, identity_events.UserDeleted(user_id="u-1"), "identity")
    for model in (Recipient, Preference, Notification, Delivery, Follower):
        assert await db.all(model, model.user_id == "u-1") == []
    [tracked] = await db.all(TrackedReport, TrackedReport.report_id == "r-1000000001")
    assert tracked.reporter_id == ""


async def test_reporter_and_followers_hear_status_changes_officers_hear_new_work(db):
    officer, other_officer = recipient(role="officer", agency="ubnd_26743"), recipient(role="officer", agency="qhcm")
    admin, citizen_same_agency_code = recipient(role="agency_admin", agency="ubnd_26743"), recipient()
    await db.add(officer, other_officer, admin, citizen_same_agency_code)
    await apply(db, handlers.on_report_submitted, reports_events.ReportSubmitted(
        report_id="r-2000000001", reporter_id="rep"), "reports")
    await apply(db, handlers.on_report_activity, reports_events.ReportFollowed(
        report_id="r-2000000001", user_id="fan"), "reports")
    await apply(db, handlers.on_status_changed, assigned_event("rep", "r-2000000001"), "reports")
    assert await types_of(db, "rep") == ["report_assigned", "report_submitted"]
    assert await types_of(db, "fan") == ["report_assigned"]
    assert await types_of(db, officer.user_id) == ["agency_new_assignment"]
    assert await types_of(db, admin.user_id) == ["agency_new_assignment"]
    assert await types_of(db, other_officer.user_id) == []
    for status, kind in ((reports_pb2.REPORT_STATUS_IN_PROGRESS, "report_acknowledged"),
                         (reports_pb2.REPORT_STATUS_RESOLVED, "report_resolved")):
        await apply(db, handlers.on_status_changed, reports_events.ReportStatusChanged(
            report_id="r-2000000001", to_status=status, reporter_id="rep", agency_code="ubnd_26743",
            note="đã hút nước"), "reports")
        assert kind in await types_of(db, "fan")
    reopened = assigned_event("rep", "r-2000000001", from_status=reports_pb2.REPORT_STATUS_RESOLVED)
    await apply(db, handlers.on_status_changed, reopened, "reports")
    assert "agency_report_reopened" in await types_of(db, officer.user_id)
    await apply(db, handlers.on_status_changed, reports_events.ReportStatusChanged(
        report_id="r-2000000001", to_status=reports_pb2.REPORT_STATUS_REJECTED, reporter_id="rep",
        note="trùng lặp"), "reports")
    rejected = [n for n in await db.inbox("rep") if n.type == "report_rejected"]
    assert "trùng lặp" in rejected[0].body


async def test_comments_go_the_right_way_and_merges_tell_the_audience(db):
    officer = recipient(role="officer", agency="ubnd_26743")
    await db.add(officer)
    await apply(db, handlers.on_status_changed, assigned_event("rep", "r-3000000001"), "reports")
    await apply(db, handlers.on_report_activity, reports_events.ReportCommented(
        report_id="r-3000000001", author_role="citizen"), "reports")
    await apply(db, handlers.on_report_activity, reports_events.ReportCommented(
        report_id="r-3000000001", author_role="officer"), "reports")
    await apply(db, handlers.on_report_activity, reports_events.ReportCommented(
        report_id="r-3000000001", author_role="officer", internal=True), "reports")
    await apply(db, handlers.on_report_activity, reports_events.ReportMerged(
        report_id="r-3000000001", parent_report_id="r-3000000009"), "reports")
    assert await types_of(db, "rep") == ["report_assigned", "report_commented", "report_merged"]
    assert await types_of(db, officer.user_id) == ["agency_new_assignment", "agency_report_commented"]


async def test_sla_warning_and_escalation_reach_the_agency_and_the_parent(db):
    officer, parent_officer = recipient(role="officer", agency="ubnd_26743"), recipient(role="officer", agency="ioc")
    await db.add(officer, parent_officer)
    await apply(db, handlers.on_deadline, routing_events.SlaWarning(
        report_id="r-4000000001", agency_code="ubnd_26743", deadline="ack"), "routing")
    await apply(db, handlers.on_deadline, routing_events.ReportEscalated(
        report_id="r-4000000001", agency_code="ubnd_26743", escalated_to_agency_code="ioc",
        deadline="resolve"), "routing")
    assert await types_of(db, officer.user_id) == ["report_escalated", "sla_warning"]
    assert await types_of(db, parent_officer.user_id) == ["report_escalated"]
    [escalated] = [n for n in await db.inbox(officer.user_id) if n.type == "report_escalated"]
    assert escalated.urgent and "ioc" in escalated.body
    # urgent: SMS by default even though nobody chose it (the group is locked on)
    assert {d.channel for d in await db.deliveries(Delivery.user_id == officer.user_id)} == {"sms"}


async def test_a_redelivered_nats_event_produces_no_second_message(db, nats_server):
    user = recipient()
    await db.add(user)
    async with db.uow() as uow:
        await preferences.update(uow, user.user_id, channels={"reports": ["email", "sms"]})
    nc = await natsio.connect(nats_server.url, name="test")
    js = nc.jetstream(timeout=5)
    await natsio.ensure_streams(js, ["REPORTS"])
    event = Event.of("reports", assigned_event(user.user_id))
    await js.publish(event.subject, event.payload, headers={"Nats-Msg-Id": event.id, "Cds-Event-Type": event.event_type})
    first = Consumer(js, service="notify", purpose="status", stream="REPORTS", subjects=["reports.v1.>"],
                     handler=handlers.on_status_changed, uow_factory=db.uow, inbox=inbox)
    task = asyncio.create_task(first.run())

    async def applied() -> None:
        while first.applied == 0:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(applied(), 15)
    first.stop()
    await task
    # The consumer is recreated from scratch: JetStream delivers the same event again.
    await js.delete_consumer("REPORTS", first.durable)
    again = Consumer(js, service="notify", purpose="status", stream="REPORTS", subjects=["reports.v1.>"],
                     handler=handlers.on_status_changed, uow_factory=db.uow, inbox=inbox)
    await js.add_consumer("REPORTS", again.config())
    sub = await js.pull_subscribe_bind(durable=again.durable, stream="REPORTS")
    [msg] = await sub.fetch(1, timeout=5)
    assert msg.headers["Nats-Msg-Id"] == event.id
    await again.process(msg)
    assert again.applied == 0
    async with db.uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(Notification))
        deliveries = await uow.session.scalar(select(func.count()).select_from(Delivery))
    assert (count, deliveries) == (1, 2)
    await nc.close()


async def test_withdrawal_tells_nobody(db):
    await apply(db, handlers.on_status_changed, reports_events.ReportStatusChanged(
        report_id="r-5000000001", to_status=reports_pb2.REPORT_STATUS_WITHDRAWN, reporter_id="rep"), "reports")
    assert await db.inbox("rep") == []


async def test_the_delivery_failed_event_reaches_nats_through_the_outbox(db, nats_server, directory, clock, tmp_path):
    from services.notify.adapters.email import FileEmailSender
    from services.notify.adapters.push import FakePushSender
    from services.notify.adapters.sms import FileSmsProvider
    from services.notify.service_layer.sender import Channels, DeliveryWorker
    user = recipient()
    await db.add(user)
    async with db.uow() as uow:
        await preferences.update(uow, user.user_id, channels={"reports": ["email"]})
    await apply(db, partial(handlers.on_status_changed, clock=clock), assigned_event(user.user_id), "reports")
    worker = DeliveryWorker(db.uow, Channels(FileEmailSender(tmp_path / "e"), FileSmsProvider(tmp_path / "s"),
                                             FakePushSender()), directory.directory, clock=clock)
    await worker.run_once()
    nc = await natsio.connect(nats_server.url, name="test")
    js = nc.jetstream(timeout=5)
    await natsio.ensure_streams(js, ["NOTIFY"])
    assert await OutboxRelay(db.engine, outbox, js).publish_pending() == 1
    msg = await js.get_last_msg("NOTIFY", "notify.v1.delivery_failed")
    assert notify_events.DeliveryFailed.FromString(msg.data).reason == "no_contact"
    await nc.close()

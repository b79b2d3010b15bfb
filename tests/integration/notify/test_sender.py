"""The sender against a real database, a real SMTP server (aiosmtpd) and a real HTTP SMS gateway."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from congdanso.notify.v1 import events_pb2 as notify_events
from congdanso.routing.v1 import events_pb2 as routing_events
from services.notify.adapters.email import FileEmailSender, SmtpEmailSender
from services.notify.adapters.orm import Delivery
from services.notify.adapters.push import FakePushSender
from services.notify.adapters.sms import FileSmsProvider, HttpSmsProvider
from services.notify.domain.delivery import DELIVERED, PERMANENT, SENDING, TECHNICAL, TEMPORARY
from services.notify.service_layer import handlers, preferences
from services.notify.service_layer.sender import ChannelLimits, Channels, DeliveryWorker, RetryPolicy
from tests.integration.notify.conftest import assigned_event, received, recipient


def make_worker(db, directory, clock, tmp_path, *, email=None, sms=None, push=None, attempts=3,  # noqa: ANN001, ANN201
                limits=None):
    channels = Channels(email=email or FileEmailSender(tmp_path / "email.jsonl"),
                        sms=sms or FileSmsProvider(tmp_path / "sms.jsonl"), push=push or FakePushSender())
    return DeliveryWorker(db.uow, channels, directory.directory, clock=clock, limits=limits,
                          policy=RetryPolicy(max_attempts=attempts, base_seconds=60, cap_seconds=600))


async def resident(db, *, language="vi", channels=("email",), group="reports"):  # noqa: ANN001, ANN201
    person = recipient(language=language)
    await db.add(person)
    async with db.uow() as uow:
        await preferences.update(uow, person.user_id, channels={group: list(channels)})
    return person.user_id


async def assign(db, user_id, clock, event_id=None):  # noqa: ANN001, ANN201
    event = received(assigned_event(user_id), "reports", event_id)
    async with db.uow() as uow:
        await handlers.on_status_changed(event, uow, clock=clock)
        await uow.commit()
    return event


@pytest.mark.parametrize(("language", "subject", "phrase"), [
    ("en", "[Cong dan so] Report", "Ben Thanh Ward People's Committee"),
    ("vi", "[Công dân số] Phản ánh", "UBND phường Bến Thành"),
])
async def test_real_smtp_server_receives_the_email_in_the_right_language(
        db, directory, clock, smtp, tmp_path, language, subject, phrase):
    mailbox, port = smtp
    user = await resident(db, language=language)
    await directory.put(user, email="an@example.org")
    await assign(db, user, clock)
    sender = SmtpEmailSender(host="127.0.0.1", port=port, sender="no-reply@congdanso.test")
    assert await make_worker(db, directory, clock, tmp_path, email=sender).run_once() == 1
    [mail] = mailbox.messages
    assert mail["To"] == "an@example.org" and mail["Subject"].startswith(subject)
    assert phrase in mail.get_content()
    [d] = await db.deliveries()
    assert (d.status, d.attempts, d.destination, d.template_version) == (DELIVERED, 1, "a***@example.org", 1)
    [item] = await db.inbox(user)
    assert item.template_version == 1 and item.type == "report_assigned"


async def test_a_redelivered_event_and_concurrent_workers_send_once(db, directory, clock, smtp, tmp_path):
    mailbox, port = smtp
    user = await resident(db)
    await directory.put(user, email="an@example.org")
    event = await assign(db, user, clock)
    await assign(db, user, clock, event_id=event.id)          # the same event again: nothing new
    sender = SmtpEmailSender(host="127.0.0.1", port=port, sender="no-reply@congdanso.test")
    workers = [make_worker(db, directory, clock, tmp_path, email=sender) for _ in range(3)]
    await asyncio.gather(*(w.run_once() for w in workers))
    await workers[0].run_once()
    assert len(mailbox.messages) == 1
    assert len(await db.inbox(user)) == 1
    [d] = await db.deliveries()
    assert d.status == DELIVERED and d.attempts == 1


async def test_quiet_hours_hold_back_an_email_and_let_an_urgent_one_through(db, directory, clock, smtp, tmp_path):
    mailbox, port = smtp
    resident_id = await resident(db)
    officer = recipient(role="officer", agency="ubnd_26743")
    await db.add(officer)
    async with db.uow() as uow:
        await preferences.update(uow, officer.user_id, channels={"urgent": ["sms", "email"]})
    await directory.put(resident_id, email="resident@example.org")
    await directory.put(officer.user_id, email="officer@example.org", phone="0912345678")
    clock.local(23, 15)
    await assign(db, resident_id, clock)
    warning = routing_events.SlaWarning(report_id="r-000000000001", agency_code="ubnd_26743", deadline="resolve")
    warning.due_at.FromDatetime(clock.now + timedelta(hours=2))
    async with db.uow() as uow:
        await handlers.on_deadline(received(warning, "routing"), uow, clock=clock)
        await uow.commit()
    sms_file = tmp_path / "sms.jsonl"
    worker = make_worker(db, directory, clock, tmp_path, email=SmtpEmailSender(
        host="127.0.0.1", port=port, sender="no-reply@congdanso.test"), sms=FileSmsProvider(sms_file))
    await worker.run_once()
    assert [m["To"] for m in mailbox.messages] == ["officer@example.org"]
    assert "+84912345678" in sms_file.read_text()
    [held] = await db.deliveries(Delivery.user_id == resident_id)
    assert held.status == "created"
    clock.local(7, 0, day=11)
    await worker.run_once()
    assert [m["To"] for m in mailbox.messages] == ["officer@example.org", "resident@example.org"]


async def test_refused_recipient_is_a_permanent_failure_with_an_event(db, directory, clock, smtp, tmp_path):
    _, port = smtp
    user = await resident(db)
    await directory.put(user, email="nobody@refused.example")
    await assign(db, user, clock)
    sender = SmtpEmailSender(host="127.0.0.1", port=port, sender="no-reply@congdanso.test")
    await make_worker(db, directory, clock, tmp_path, email=sender).run_once()
    [d] = await db.deliveries()
    assert d.status == PERMANENT and "refused" in d.reason
    [row] = await db.events("notify.v1.delivery_failed")
    failed = notify_events.DeliveryFailed.FromString(row.payload)
    assert (failed.delivery_id, failed.channel, failed.user_id) == (d.id, "email", user)


async def test_smtp_down_retries_with_back_off_then_gives_up_as_technical_failure(db, directory, clock, tmp_path):
    from tests.conftest import free_port
    user = await resident(db)
    await directory.put(user, email="an@example.org")
    await assign(db, user, clock)
    dead = SmtpEmailSender(host="127.0.0.1", port=free_port(), sender="x@congdanso.test", timeout=2)
    worker = make_worker(db, directory, clock, tmp_path, email=dead, attempts=3)
    await worker.run_once()
    [d] = await db.deliveries()
    assert (d.status, d.attempts) == (TEMPORARY, 1)
    assert await worker.run_once() == 0                     # not due before the back-off passes
    clock.advance(seconds=60)
    await worker.run_once()
    [d] = await db.deliveries()
    assert (d.status, d.attempts) == (TEMPORARY, 2)
    clock.advance(seconds=120)
    await worker.run_once()
    [d] = await db.deliveries()
    assert (d.status, d.attempts) == (TECHNICAL, 3)
    assert await db.events("notify.v1.delivery_failed") == []


async def test_http_sms_gateway_retries_after_5xx_and_429_then_delivers(db, directory, clock, tmp_path, http_receiver):
    user = await resident(db, channels=("sms",))
    await directory.put(user, phone="0901234567")
    await assign(db, user, clock)
    http_receiver.statuses = [500, 429]
    provider = HttpSmsProvider(http_receiver.url, token="sms-secret")
    worker = make_worker(db, directory, clock, tmp_path, sms=provider, attempts=5)
    for _ in range(3):
        await worker.run_once()
        clock.advance(minutes=10)
    [d] = await db.deliveries()
    assert (d.status, d.attempts, d.provider_ref, d.destination) == (DELIVERED, 3, "prov-3", "+8490*****67")
    assert len(http_receiver.requests) == 3
    sent = http_receiver.requests[-1]
    assert sent["headers"]["Authorization"] == "Bearer sms-secret"
    assert b'"to": "+84901234567"' in sent["body"] or b'"to":"+84901234567"' in sent["body"]
    await provider.close()


async def test_http_sms_4xx_and_landlines_are_permanent(db, directory, clock, tmp_path, http_receiver):
    rejected = await resident(db, channels=("sms",))
    landline = await resident(db, channels=("sms",))
    await directory.put(rejected, phone="0901234567")
    await directory.put(landline, phone="02838123456")
    await assign(db, rejected, clock)
    await assign(db, landline, clock)
    http_receiver.statuses = [400]
    provider = HttpSmsProvider(http_receiver.url)
    await make_worker(db, directory, clock, tmp_path, sms=provider).run_once()
    by_user = {d.user_id: d for d in await db.deliveries()}
    assert by_user[rejected].status == PERMANENT and "400" in by_user[rejected].reason
    assert by_user[landline].status == PERMANENT and by_user[landline].reason == "not_a_mobile_number"
    assert len(http_receiver.requests) == 1                  # the landline never reached the gateway
    assert len(await db.events("notify.v1.delivery_failed")) == 2
    await provider.close()


async def test_unknown_contact_and_push_without_device(db, directory, clock, tmp_path):
    nobody = await resident(db, channels=("email",))
    pushed = await resident(db, channels=("push",))
    no_device = await resident(db, channels=("push",))
    for user in (nobody, pushed, no_device):
        await assign(db, user, clock)
    push = FakePushSender(devices={pushed})
    await make_worker(db, directory, clock, tmp_path, push=push).run_once()
    by_user = {d.user_id: d for d in await db.deliveries()}
    assert (by_user[nobody].status, by_user[nobody].reason) == (PERMANENT, "no_contact")
    assert by_user[pushed].status == DELIVERED
    assert by_user[no_device].status == PERMANENT
    [push_sent] = push.sent
    assert push_sent["user_id"] == pushed and push_sent["data"]["type"] == "report_assigned"


async def test_a_send_interrupted_by_a_crash_is_never_repeated(db, directory, clock, smtp, tmp_path):
    mailbox, port = smtp
    user = await resident(db)
    await directory.put(user, email="an@example.org")
    await assign(db, user, clock)
    worker = make_worker(db, directory, clock, tmp_path, email=SmtpEmailSender(
        host="127.0.0.1", port=port, sender="no-reply@congdanso.test"))
    [(delivery_id, status)] = await worker.due()
    assert await worker.claim(delivery_id, status) is not None   # a worker claimed it, then "crashed"
    assert await worker.run_once() == 0
    clock.advance(minutes=11)
    await worker.run_once()
    [d] = await db.deliveries()
    assert d.status == TECHNICAL and mailbox.messages == []
    assert d.status != SENDING


async def test_a_failing_provider_trips_the_breaker_and_messages_wait(db, directory, clock, tmp_path, http_receiver):
    users = [await resident(db, channels=("sms",)) for _ in range(4)]
    for user in users:
        await directory.put(user, phone="0901234567")
        await assign(db, user, clock)
    http_receiver.statuses = [500, 500]
    limits = {"sms": ChannelLimits(breaker_threshold=2, breaker_cooldown=timedelta(minutes=5))}
    provider = HttpSmsProvider(http_receiver.url)
    worker = make_worker(db, directory, clock, tmp_path, sms=provider, limits=limits, attempts=10)
    worker.batch = 1
    await worker.run_once()
    await worker.run_once()
    assert worker.breakers["sms"].state == "open"
    assert await worker.run_once() == 0                     # open: nothing is claimed
    assert len(http_receiver.requests) == 2
    waiting = [d for d in await db.deliveries() if d.status == "created"]
    assert len(waiting) == 2                                # not lost, still due
    clock.advance(minutes=5)
    worker.batch = 50
    assert await worker.run_once() == 1                     # half-open: one trial, it succeeds
    assert worker.breakers["sms"].state == "closed"
    clock.advance(minutes=2)
    await worker.run_once()
    assert sorted(d.status for d in await db.deliveries()) == ["delivered"] * 4
    await provider.close()


async def test_daily_cap_and_rate_hold_the_rest_until_allowed(db, directory, clock, tmp_path):
    users = [await resident(db, channels=("sms",)) for _ in range(3)]
    for user in users:
        await directory.put(user, phone="0901234567")
        await assign(db, user, clock)
    worker = make_worker(db, directory, clock, tmp_path, limits={"sms": ChannelLimits(per_minute=60, per_day=2)})
    assert await worker.run_once() == 2
    assert await worker.run_once() == 0                     # the day's cap is used up
    clock.local(7, 5, day=11)                               # the next day in Ho Chi Minh City
    assert await worker.run_once() == 1
    slow = make_worker(db, directory, clock, tmp_path, limits={"sms": ChannelLimits(per_minute=1)})
    for user in users:
        await assign(db, user, clock)
    assert await slow.run_once() == 1 and await slow.run_once() == 0
    clock.advance(minutes=1)
    assert await slow.run_once() == 1


class CutShort(FakePushSender):
    """Sends the first push, then the pass is cancelled mid-send (a shutdown)."""

    async def send(self, user_id: str, title: str, body: str, data: dict[str, str]) -> str:
        if self.sent:
            raise asyncio.CancelledError
        return await super().send(user_id, title, body, data)


async def test_outcomes_of_a_pass_cut_short_are_recorded_and_the_interrupted_send_is_not_repeated(
        db, directory, clock, tmp_path):
    users = [await resident(db, channels=("push",)) for _ in range(2)]
    for user in users:
        await assign(db, user, clock)
    push = CutShort()
    with pytest.raises(asyncio.CancelledError):
        await make_worker(db, directory, clock, tmp_path, push=push).run_once()
    by_user = {d.user_id: d for d in await db.deliveries()}
    [sent] = push.sent
    assert by_user[sent["user_id"]].status == DELIVERED       # recorded although the pass did not finish
    [cut] = [u for u in users if u != sent["user_id"]]
    assert by_user[cut].status == SENDING                     # claimed, its send interrupted
    clock.advance(minutes=11)
    await make_worker(db, directory, clock, tmp_path, push=push).run_once()
    assert (await db.deliveries(Delivery.user_id == cut))[0].status == TECHNICAL
    assert len(push.sent) == 1

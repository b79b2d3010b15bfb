"""Webhooks against a real local HTTP receiver that verifies the HMAC signature."""

from __future__ import annotations

import json
from functools import partial
from datetime import timedelta

import httpx
import pytest

from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.routing.v1 import events_pb2 as routing_events
from services.notify.adapters.orm import WebhookAttempt, WebhookDelivery, WebhookSubscription, inbox
from services.notify.domain import webhooks as model
from services.notify.domain.errors import WebhookInvalid, WebhookNotFound
from services.notify.service_layer import webhooks
from servicekit.auth import Principal
from servicekit.inbox import Consumer
from tests.integration.notify.conftest import received

CLIENT = Principal(user_id="client-ubnd", role="client", agency_code="ubnd_26743")
OPERATOR = Principal(user_id="op-1", role="operator")
POLICY = model.WebhookPolicy(base_seconds=10, cap_seconds=3600, max_attempts=5,
                             give_up_after=timedelta(hours=1), timeout_seconds=2)


async def subscribe(db, receiver, caller=CLIENT, types=("reports.v1.report_status_changed",)):  # noqa: ANN001, ANN201
    async with db.uow() as uow:
        return await webhooks.subscribe(uow, caller, url=receiver.url, event_types=list(types), allow_private=True)


async def publish(db, message, service="reports", event_id=None, clock=None):  # noqa: ANN001, ANN201
    event = received(message, service, event_id)
    handler = partial(webhooks.enqueue, clock=clock) if clock else webhooks.enqueue
    consumer = Consumer(None, service="notify", purpose="webhooks", stream="X", subjects=[], handler=handler,
                        uow_factory=db.uow, inbox=inbox)
    await consumer.apply(event)
    return event


def status_changed(agency="ubnd_26743"):  # noqa: ANN001, ANN201
    return reports_events.ReportStatusChanged(report_id="r-1", reporter_id="u-1", agency_code=agency, to_status=3)


def verified(receiver, secret: str) -> list[dict]:  # noqa: ANN001
    """Check every request as the receiver would at receipt (the test clock stood at its timestamp)."""
    out = []
    for r in receiver.requests:
        ts = int(r["headers"][model.TIMESTAMP_HEADER])
        assert model.verify(secret, ts, r["body"], r["headers"][model.SIGNATURE_HEADER], now=ts)
        out.append(json.loads(r["body"]))
    return out


@pytest.fixture
async def worker(db, clock):
    w = webhooks.WebhookWorker(db.uow, clock=clock, policy=POLICY,
                               client=httpx.AsyncClient(timeout=2, trust_env=False))
    yield w
    await w.close()


async def test_signed_post_retried_after_500s_and_not_after_success(db, clock, http_receiver, worker):
    sub = await subscribe(db, http_receiver)
    event = await publish(db, status_changed(), clock=clock)
    http_receiver.statuses = [500, 503]
    for _ in range(5):
        await worker.run_once()
        clock.advance(minutes=5)
    assert len(http_receiver.requests) == 3
    [body, *_] = verified(http_receiver, sub.secret)
    assert body["id"] == event.id and body["type"] == "reports.v1.report_status_changed"
    assert body["data"]["agency_code"] == "ubnd_26743"
    [d] = await db.all(WebhookDelivery)
    assert (d.status, d.attempts, d.last_status_code) == ("delivered", 3, 200)
    log = sorted(await db.all(WebhookAttempt), key=lambda a: a.attempt)
    assert [(a.attempt, a.status_code) for a in log] == [(1, 500), (2, 503), (3, 200)]
    assert not model.verify("wrong-secret", int(http_receiver.requests[0]["headers"][model.TIMESTAMP_HEADER]),
                            http_receiver.requests[0]["body"],
                            http_receiver.requests[0]["headers"][model.SIGNATURE_HEADER], now=int(clock.now.timestamp()))


async def test_back_off_grows_and_gives_up_after_a_bounded_time(db, clock, http_receiver, worker):
    await subscribe(db, http_receiver)
    await publish(db, status_changed(), clock=clock)
    http_receiver.statuses = [429] + [500] * 20
    waits = []
    for _ in range(20):
        await worker.run_once()
        [d] = await db.all(WebhookDelivery)
        if d.status == "failed":
            break
        waits.append(round((d.next_attempt_at.replace(tzinfo=clock.now.tzinfo) - clock.now).total_seconds()))
        clock.now = d.next_attempt_at.replace(tzinfo=clock.now.tzinfo)
    assert waits == [10, 20, 40, 80]          # then the 5th attempt fails for good
    assert d.status == "failed" and d.attempts == 5
    sent = len(http_receiver.requests)
    clock.advance(days=1)
    await worker.run_once()
    assert len(http_receiver.requests) == sent


async def test_timeouts_are_retried_and_4xx_is_final(db, clock, worker, http_receiver):
    from tests.conftest import free_port
    dead = f"http://127.0.0.1:{free_port()}/hook"
    async with db.uow() as uow:
        await webhooks.subscribe(uow, CLIENT, url=dead, event_types=["reports.v1.report_status_changed"],
                                 allow_private=True)
    await subscribe(db, http_receiver)
    http_receiver.statuses = [410]
    await publish(db, status_changed(), clock=clock)
    await worker.run_once()
    by_status = {d.last_status_code: d for d in await db.all(WebhookDelivery)}
    assert by_status[0].status == "pending" and by_status[0].last_error
    assert by_status[410].status == "failed"


async def test_manual_redelivery_sends_again(db, clock, http_receiver, worker):
    sub = await subscribe(db, http_receiver)
    await publish(db, status_changed(), clock=clock)
    await worker.run_once()
    [d] = await db.all(WebhookDelivery)
    async with db.uow() as uow:
        with pytest.raises(WebhookNotFound):
            await webhooks.redeliver(uow, OPERATOR, d.id, clock=clock)     # not the operator's webhook
        again = await webhooks.redeliver(uow, CLIENT, d.id, clock=clock)
    assert again.status == "pending"
    await worker.run_once()
    assert len(http_receiver.requests) == 2
    assert len({r["body"] for r in http_receiver.requests}) == 1
    assert sub.id == d.subscription_id


async def test_only_subscribed_types_of_the_clients_agency_and_each_event_once(db, clock, http_receiver, worker):
    await subscribe(db, http_receiver)
    await subscribe(db, http_receiver, caller=OPERATOR, types=("routing.v1.sla_warning",))
    event = await publish(db, status_changed(), clock=clock)
    await publish(db, status_changed(), event_id=event.id)            # redelivered: no second delivery
    await publish(db, status_changed(agency="qhcm"))                  # another agency: not for the client
    await publish(db, routing_events.SlaWarning(report_id="r-1", agency_code="qhcm"), service="routing")
    deliveries = await db.all(WebhookDelivery)
    assert sorted(d.event_type for d in deliveries) == ["reports.v1.report_status_changed", "routing.v1.sla_warning"]


async def test_a_consumer_batch_enqueues_what_the_events_one_by_one_would(db, clock, http_receiver):
    """The batch path (one INSERT for the batch) filters by type and agency like `enqueue`, event by event."""
    await subscribe(db, http_receiver, types=("reports.v1.report_status_changed", "reports.v1.report_submitted"))
    await subscribe(db, http_receiver, caller=OPERATOR, types=("reports.v1.report_status_changed",))
    events = [received(status_changed(), "reports"), received(status_changed(agency="qhcm"), "reports"),
              received(reports_events.ReportFollowed(report_id="r-1", user_id="u-2"), "reports"),
              received(reports_events.ReportSubmitted(report_id="r-2", ward_code="26743"), "reports")]
    consumer = Consumer(None, service="notify", purpose="webhooks", stream="X", subjects=[],
                        handler=webhooks.enqueue, batch_handler=partial(webhooks.enqueue_batch, clock=clock),
                        uow_factory=db.uow, inbox=inbox)
    calls = []
    consumer.ack = lambda msg: calls.append(msg) or _done()
    assert await consumer.apply_batch([_message(e) for e in events])
    got = sorted((d.event_id, d.subscription_id, d.payload) for d in await db.all(WebhookDelivery))
    client, operator = (s.id for s in sorted(await db.all(WebhookSubscription), key=lambda s: s.owner_id))
    by_id = {e.id: e for e in events}
    # a submission names no agency yet: not for the agency-scoped client; nobody follows report_followed
    want = sorted([(events[0].id, client), (events[0].id, operator), (events[1].id, operator)])
    assert [(e, s) for e, s, _ in got] == want
    for event_id, _, payload in got:
        assert json.loads(payload)["type"] == by_id[event_id].subject
    assert len(calls) == 4


async def _done() -> None:
    return None


def _message(event):  # noqa: ANN001, ANN202
    """A JetStream-shaped message carrying a received event (what Consumer.apply_batch reads)."""
    from types import SimpleNamespace
    return SimpleNamespace(subject=event.subject, data=event.payload, reply="",
                           headers={"Nats-Msg-Id": event.id, "Cds-Event-Type": event.event_type})


@pytest.mark.parametrize(("url", "types", "private"), [
    ("ftp://example.org/x", ["reports.v1.report_submitted"], False),
    ("http://example.org/x", ["reports.v1.report_submitted"], False),      # public needs https
    ("https://10.0.0.5/x", ["reports.v1.report_submitted"], False),       # private address
    ("https://localhost/x", ["reports.v1.report_submitted"], False),
    ("https://example.org/x", [], False),
    ("https://example.org/x", ["identity.v1.user_registered"], False),
])
async def test_bad_subscriptions_are_refused(db, url, types, private):
    async with db.uow() as uow:
        with pytest.raises(WebhookInvalid):
            await webhooks.subscribe(uow, CLIENT, url=url, event_types=types, allow_private=private)


def test_signature_is_hmac_sha256_over_timestamp_and_body():
    import hashlib
    import hmac
    expected = hmac.new(b"s3cret", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert model.sign("s3cret", 1700000000, b"{}") == f"v1={expected}"
    assert not model.verify("s3cret", 1700000000, b"{}", f"v1={expected}", now=1700000000 + 301)

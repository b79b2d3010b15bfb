"""Per-process caches of templates, webhook subscriptions and officers: this process's own changes
show at once, another replica's within the TTL; batched recipient lookups change nothing visible."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from congdanso.identity.v1 import events_pb2 as identity_events
from congdanso.reports.v1 import events_pb2 as reports_events
from congdanso.routing.v1 import events_pb2 as routing_events
from services.notify.adapters.orm import Delivery, Template, WebhookDelivery
from services.notify.service_layer import handlers, notifying, preferences, templates, webhooks
from servicekit.auth import Principal
from servicekit.db import make_engine, session_factory
from tests.integration.notify.conftest import assigned_event, received, recipient

CLIENT = Principal(user_id="client-1", role="client", agency_code="ubnd_26743")


class Ticking:
    """A monotonic clock for the caches that tests move by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cache_clock(monkeypatch):
    clock = Ticking()
    for cache in (templates._current, webhooks._targets, notifying._officers):
        monkeypatch.setattr(cache, "clock", clock)
    return clock


async def apply(db, handler, message, service="reports") -> None:  # noqa: ANN001
    async with db.uow() as uow:
        await handler(received(message, service), uow)
        await uow.commit()


async def submitted(db, reporter: str, report_id: str) -> None:  # noqa: ANN001
    await apply(db, handlers.on_report_submitted, reports_events.ReportSubmitted(report_id=report_id,
                                                                                 reporter_id=reporter))


async def title_of(db, user_id: str) -> tuple[str, int]:  # noqa: ANN001
    [item] = await db.inbox(user_id)
    return item.title, item.template_version


async def test_templates_put_here_are_used_at_once_another_replicas_within_the_ttl(db, cache_clock):
    await db.add(*(recipient(user_id=u) for u in ("u-1", "u-2", "u-3", "u-4")))
    await submitted(db, "u-1", "r-00000001")
    assert (await title_of(db, "u-1"))[1] == 1
    async with db.uow() as uow:
        await templates.put(uow.session, message_type="report_submitted", channel="inbox", language="vi",
                            subject="Mới {short_id}", body="Đã nhận {short_id}", author="op")
        await uow.commit()
    await submitted(db, "u-2", "r-00000002")
    assert await title_of(db, "u-2") == ("Mới 00000002", 2)
    other = make_engine(db.engine.url.render_as_string(hide_password=False))   # another replica writes v3
    async with session_factory(other)() as session, session.begin():
        session.add(Template(message_type="report_submitted", channel="inbox", language="vi", version=3,
                             subject="Bản 3 {short_id}", body="{short_id}", created_at=datetime.now(UTC)))
    await other.dispose()
    await submitted(db, "u-3", "r-00000003")
    assert (await title_of(db, "u-3"))[1] == 2                  # this replica's cache is still fresh
    cache_clock.now += templates.CACHE_SECONDS
    await submitted(db, "u-4", "r-00000004")
    assert await title_of(db, "u-4") == ("Bản 3 00000004", 3)


async def test_a_new_subscription_gets_the_next_event_although_an_empty_list_was_cached(db, cache_clock):
    event = routing_events.ReportAssigned(report_id="r-1", agency_code="ubnd_26743")
    await apply(db, webhooks.enqueue, event, "routing")            # nobody subscribed: cached as such
    async with db.uow() as uow:
        hook = await webhooks.subscribe(uow, CLIENT, url="https://hooks.example/cds",
                                        event_types=["routing.v1.report_assigned"], allow_private=False)
    await apply(db, webhooks.enqueue, routing_events.ReportAssigned(report_id="r-2", agency_code="ubnd_26743"),
                "routing")
    await apply(db, webhooks.enqueue, routing_events.ReportAssigned(report_id="r-3", agency_code="qhcm"), "routing")
    [delivery] = await db.all(WebhookDelivery)
    assert delivery.subscription_id == hook.id and '"report_id": "r-2"' in delivery.payload


async def test_an_officer_registered_here_hears_of_the_next_assignment(db, cache_clock):
    await db.add(first := recipient(role="officer", agency="ubnd_26743"))
    await apply(db, handlers.on_status_changed, assigned_event("rep", "r-6000000001"))
    await apply(db, handlers.project_user, identity_events.UserRegistered(
        user_id="u-new-officer", role="officer", agency_code="ubnd_26743", language="en"), "identity")
    await apply(db, handlers.on_status_changed, assigned_event("rep", "r-6000000002"))
    assert len(await db.inbox(first.user_id)) == 2
    [item] = await db.inbox("u-new-officer")
    assert item.report_id == "r-6000000002" and item.title.startswith("New")


async def test_one_event_to_many_people_follows_each_ones_language_and_channels(db, cache_clock):
    officers = [recipient(role="officer", agency="ubnd_26743", language=("vi", "en")[i % 2]) for i in range(6)]
    await db.add(*officers)
    async with db.uow() as uow:
        await preferences.update(uow, officers[0].user_id, channels={"agency": ["email"]})
    event = received(assigned_event("rep", "r-7000000001"), "reports")
    for _ in range(2):                                  # the same event twice: the dedupe keys hold
        async with db.uow() as uow:
            await handlers.on_status_changed(event, uow)
            await uow.commit()
    for i, officer in enumerate(officers):
        [item] = await db.inbox(officer.user_id)
        assert item.type == "agency_new_assignment"
        assert item.title.startswith("New") == (i % 2 == 1)
    emails = await db.deliveries(Delivery.channel == "email")
    assert [d.user_id for d in emails] == [officers[0].user_id]

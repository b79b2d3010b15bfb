"""NotifyService over a real gRPC server (servicekit's, with its auth interceptor) and a real DB."""

from __future__ import annotations

import json
import time

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from congdanso.common.v1 import common_pb2
from congdanso.notify.v1 import notify_pb2, notify_pb2_grpc
from services.notify.adapters.orm import Delivery
from services.notify.adapters.sms import FileSmsProvider
from services.notify.entrypoints.servicer import NotifyServicer
from services.notify.service_layer import announcements
from servicekit.auth import JwtVerifier
from servicekit.grpcclient import internal_metadata
from servicekit.grpcserver import ERROR_CODE_KEY, GrpcServer
from tests.conftest import free_port
from tests.integration.notify.conftest import assigned_event, received, recipient

INTERNAL = "internal-secret"


class Keys:
    def __init__(self):
        self.private = Ed25519PrivateKey.generate()

    async def jwks(self) -> str:
        jwk = json.loads(OKPAlgorithm.to_jwk(self.private.public_key()))
        return json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "EdDSA"}]})

    def auth(self, sub: str, role: str = "citizen", agency: str = "") -> tuple[tuple[str, str], ...]:
        now = int(time.time())
        token = jwt.encode({"sub": sub, "role": role, "agency": agency, "iss": "iss", "aud": "aud", "iat": now,
                            "exp": now + 300}, self.private, algorithm="EdDSA", headers={"kid": "k1"})
        return (("authorization", f"Bearer {token}"),)


@pytest.fixture
async def rpc(db, clock, tmp_path):
    keys = Keys()
    listen = f"127.0.0.1:{free_port()}"
    server = GrpcServer(listen, verifier=JwtVerifier(keys.jwks, issuer="iss", audience="aud"),
                        internal_token=INTERNAL)
    sms_file = tmp_path / "sms.jsonl"
    server.add(notify_pb2_grpc.add_NotifyServiceServicer_to_server,
               NotifyServicer(db.uow, FileSmsProvider(sms_file), otp_secret="k", otp_per_hour=2, clock=clock,
                              watch_poll=0.05, heartbeat=0.2),
               "congdanso.notify.v1.NotifyService")
    await server.start()
    channel = grpc.aio.insecure_channel(listen)
    yield notify_pb2_grpc.NotifyServiceStub(channel), keys, sms_file
    await channel.close()
    await server.stop(0)


def code_of(err: grpc.aio.AioRpcError) -> str:
    return dict(err.trailing_metadata() or ()).get(ERROR_CODE_KEY, "")


async def test_send_otp_needs_the_identity_service_and_is_rate_limited(rpc, db):
    stub, keys, sms_file = rpc
    request = notify_pb2.SendOtpRequest(phone="+84901234567", code="482913", language="en", purpose="login")
    for metadata in ((), keys.auth("u-1"), internal_metadata("reports", INTERNAL), internal_metadata("identity", "x")):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.SendOtp(request, metadata=metadata)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED and code_of(err.value) == "internal_only"
    reply = await stub.SendOtp(request, metadata=internal_metadata("identity", INTERNAL))
    assert "482913" in sms_file.read_text() and "Your Cong dan so code" in sms_file.read_text()
    [d] = await db.deliveries(Delivery.id == reply.delivery_id)
    assert d.status == "delivered" and d.destination == "+8490*****67" and "482913" not in d.body + d.reason
    await stub.SendOtp(request, metadata=internal_metadata("identity", INTERNAL))
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SendOtp(request, metadata=internal_metadata("identity", INTERNAL))
    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and code_of(err.value) == "otp_rate_limited"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.SendOtp(notify_pb2.SendOtpRequest(phone="02838123456", code="1"),
                           metadata=internal_metadata("identity", INTERNAL))
    assert code_of(err.value) == "not_a_mobile_number"


async def test_inbox_unread_count_mark_all_and_delivery_log(rpc, db, clock):
    stub, keys, _ = rpc
    user = recipient(user_id="u-inbox")
    await db.add(user)
    from services.notify.service_layer import handlers, preferences
    async with db.uow() as uow:
        await preferences.update(uow, user.user_id, channels={"reports": ["email"]})
    for _ in range(3):
        async with db.uow() as uow:
            await handlers.on_status_changed(received(assigned_event(user.user_id), "reports"), uow, clock=clock)
            await uow.commit()
    me = keys.auth(user.user_id)
    assert (await stub.CountUnread(notify_pb2.CountUnreadRequest(), metadata=me)).unread_count == 3
    page = await stub.ListNotifications(notify_pb2.ListNotificationsRequest(
        page=common_pb2.PageRequest(limit=2)), metadata=me)
    assert len(page.notifications) == 2 and page.page.next_cursor and page.notifications[0].template_version == 1
    rest = await stub.ListNotifications(notify_pb2.ListNotificationsRequest(
        page=common_pb2.PageRequest(limit=2, cursor=page.page.next_cursor)), metadata=me)
    assert len(rest.notifications) == 1 and not rest.page.next_cursor
    log = await stub.ListDeliveries(notify_pb2.ListDeliveriesRequest(
        notification_id=page.notifications[0].id), metadata=me)
    assert [(d.channel, d.status) for d in log.deliveries] == [("email", "created")]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListDeliveries(notify_pb2.ListDeliveriesRequest(notification_id=page.notifications[0].id),
                                  metadata=keys.auth("someone-else"))
    assert code_of(err.value) == "notification_not_found"
    assert (await stub.MarkRead(notify_pb2.MarkReadRequest(all=True), metadata=me)).updated == 3
    assert (await stub.CountUnread(notify_pb2.CountUnreadRequest(), metadata=me)).unread_count == 0


async def test_preferences_round_trip_and_locked_groups(rpc):
    stub, keys, _ = rpc
    me = keys.auth("u-prefs")
    prefs = await stub.GetPreferences(notify_pb2.GetPreferencesRequest(), metadata=me)
    assert (prefs.language, prefs.quiet_hours_start, prefs.quiet_hours_end) == ("vi", "22:00", "07:00")
    assert {g.group: g.locked for g in prefs.groups}["security"] is True
    new = await stub.UpdatePreferences(notify_pb2.UpdatePreferencesRequest(preferences=notify_pb2.Preferences(
        language="en", quiet_hours_start="23:00", groups=[notify_pb2.GroupChannels(group="reports",
                                                                                   channels=["email"])])),
        metadata=me)
    assert new.language == "en" and new.quiet_hours_start == "23:00" and new.quiet_hours_end == "07:00"
    assert list({g.group: g for g in new.groups}["reports"].channels) == ["inbox", "email"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.UpdatePreferences(notify_pb2.UpdatePreferencesRequest(preferences=notify_pb2.Preferences(
            groups=[notify_pb2.GroupChannels(group="security", channels=[])])), metadata=me)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and code_of(err.value) == "preference_locked"


async def test_templates_are_versioned_and_checked_and_new_versions_are_used(rpc, db, clock):
    stub, keys, _ = rpc
    op = keys.auth("op-1", role="operator")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.PutTemplate(notify_pb2.PutTemplateRequest(message_type="report_submitted", channel="inbox",
                                                             language="vi", subject="x", body="y"),
                               metadata=keys.auth("u-1"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.PutTemplate(notify_pb2.PutTemplateRequest(
            message_type="report_submitted", channel="inbox", language="vi", subject="Đã nhận",
            body="Phản ánh {short_id} của {full_name}"), metadata=op)
    assert code_of(err.value) == "template_invalid"
    saved = await stub.PutTemplate(notify_pb2.PutTemplateRequest(
        message_type="report_submitted", channel="inbox", language="vi", subject="Đã nhận phản ánh {short_id}",
        body="Cảm ơn bạn, phản ánh {short_id} đã đến."), metadata=op)
    assert saved.version == 2 and list(saved.placeholders) == ["short_id"]
    listed = await stub.ListTemplates(notify_pb2.ListTemplatesRequest(message_type="report_submitted"), metadata=op)
    assert {(t.language, t.version) for t in listed.templates} == {("vi", 2), ("en", 1)}
    user = recipient(user_id="u-tpl")
    await db.add(user)
    from congdanso.reports.v1 import events_pb2 as reports_events
    from services.notify.service_layer import handlers
    async with db.uow() as uow:
        await handlers.on_report_submitted(received(reports_events.ReportSubmitted(
            report_id="r-0000000000abcdef", reporter_id=user.user_id), "reports"), uow, clock=clock)
        await uow.commit()
    [item] = await db.inbox(user.user_id)
    assert (item.title, item.template_version) == ("Đã nhận phản ánh 00abcdef", 2)


async def test_announcements_publish_fan_out_and_feed(rpc, db, clock):
    stub, keys, _ = rpc
    await db.add(recipient(user_id="resident-1", ward="26743"), recipient(user_id="resident-2", ward="27000"))
    request = notify_pb2.PublishAnnouncementRequest(
        title=common_pb2.LocalizedText(vi="Ngập", en="Flooding"), body=common_pb2.LocalizedText(
            vi="Triều cường tối nay.", en="High tide tonight."), urgent=True, ward_codes=["26743"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.PublishAnnouncement(request, metadata=keys.auth("u-1"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    ann = await stub.PublishAnnouncement(request, metadata=keys.auth("op-1", role="operator"))
    assert ann.fanout_status == "pending" and list(ann.ward_codes) == ["26743"]
    await announcements.fan_out_pending(db.uow)
    [item] = await db.inbox("resident-1")
    assert item.urgent and item.announcement_id == ann.id and await db.inbox("resident-2") == []
    feed = await stub.ListAnnouncements(notify_pb2.ListAnnouncementsRequest(ward_code="27000"))
    assert feed.announcements == []
    feed = await stub.ListAnnouncements(notify_pb2.ListAnnouncementsRequest(ward_code="26743"))
    assert [a.id for a in feed.announcements] == [ann.id] and feed.announcements[0].recipients == 1


async def test_webhook_rpcs_are_for_integrators_and_owners(rpc, db):
    stub, keys, _ = rpc
    client = keys.auth("client-1", role="client", agency="ubnd_26743")
    request = notify_pb2.CreateWebhookRequest(url="https://hooks.example.org/cds",
                                              event_types=["reports.v1.report_status_changed"])
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreateWebhook(request, metadata=keys.auth("u-1"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    hook = await stub.CreateWebhook(request, metadata=client)
    assert hook.secret.startswith("whsec_") and hook.agency_code == "ubnd_26743"
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreateWebhook(notify_pb2.CreateWebhookRequest(url="https://10.1.2.3/x",
                                                                 event_types=["routing.v1.sla_warning"]),
                                 metadata=client)
    assert code_of(err.value) == "webhook_invalid"
    listed = await stub.ListWebhooks(notify_pb2.ListWebhooksRequest(), metadata=client)
    assert [w.id for w in listed.webhooks] == [hook.id] and listed.webhooks[0].secret == ""
    other = keys.auth("client-2", role="client")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ListWebhookDeliveries(notify_pb2.ListWebhookDeliveriesRequest(webhook_id=hook.id), metadata=other)
    assert code_of(err.value) == "webhook_not_found"
    assert (await stub.ListWebhookDeliveries(notify_pb2.ListWebhookDeliveriesRequest(webhook_id=hook.id),
                                             metadata=client)).deliveries == []
    await stub.DeleteWebhook(notify_pb2.DeleteWebhookRequest(id=hook.id), metadata=client)
    assert (await stub.ListWebhooks(notify_pb2.ListWebhooksRequest(), metadata=client)).webhooks == []


async def test_watch_streams_new_items_resumes_after_an_id_and_sends_heartbeats(rpc, db, clock):
    stub, keys, _ = rpc
    me = keys.auth("u-watch")
    await db.add(recipient(user_id="u-watch"))
    from congdanso.reports.v1 import events_pb2 as reports_events
    from services.notify.service_layer import handlers

    async def submitted(report_id: str) -> None:
        async with db.uow() as uow:
            await handlers.on_report_submitted(received(reports_events.ReportSubmitted(
                report_id=report_id, reporter_id="u-watch"), "reports"), uow, clock=clock)
            await uow.commit()

    await submitted("r-old-00000001")                       # before the watch: not streamed
    call = stub.WatchNotifications(notify_pb2.WatchNotificationsRequest(), metadata=me)
    heartbeat = await call.read()
    assert heartbeat.id == ""
    await submitted("r-new-00000002")
    item = await call.read()
    while not item.id:
        item = await call.read()
    assert item.report_id == "r-new-00000002" and item.type == "report_submitted"
    call.cancel()
    [first, _] = sorted(await db.inbox("u-watch"), key=lambda n: n.id)
    resumed = stub.WatchNotifications(notify_pb2.WatchNotificationsRequest(after_id=first.id), metadata=me)
    again = await resumed.read()
    assert again.id == item.id
    resumed.cancel()

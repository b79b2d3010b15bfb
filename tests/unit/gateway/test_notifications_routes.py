"""Notify routes: notifications, preferences and announcements map JSON <-> proto and forward tokens.

The shared fake peers (tests/unit/gateway/conftest.py) answer only the RPCs in DEFAULT_REPLIES;
this module registers canned answers for the newer NotifyService RPCs before the fakes start.
"""

from __future__ import annotations

import grpc

from congdanso.common.v1 import common_pb2
from congdanso.notify.v1 import notify_pb2
from tests.unit.gateway.conftest import DEFAULT_REPLIES, ts


def _prefs(req=None, peers=None) -> notify_pb2.Preferences:  # noqa: ANN001
    return notify_pb2.Preferences(language="vi", quiet_hours_start="22:00", quiet_hours_end="07:00",
                                  timezone="Asia/Ho_Chi_Minh", groups=[
                                      notify_pb2.GroupChannels(group="reports", channels=["inbox", "email"]),
                                      notify_pb2.GroupChannels(group="security", channels=["sms"], locked=True)])


def _announcement(req=None, peers=None) -> notify_pb2.Announcement:  # noqa: ANN001
    return notify_pb2.Announcement(id="a-1", title=common_pb2.LocalizedText(vi="Cắt nước", en="Water cut"),
                                   body=common_pb2.LocalizedText(vi="Sáng mai", en="Tomorrow"), urgent=True,
                                   ward_codes=list(req.ward_codes) if req else ["26743"], published_at=ts(),
                                   fanout_status="pending")


for _name, _reply in {
    "CountUnread": lambda req, peers: notify_pb2.CountUnreadResponse(unread_count=4),
    "GetPreferences": _prefs,
    "UpdatePreferences": _prefs,
    "PublishAnnouncement": _announcement,
    "ListAnnouncements": lambda req, peers: notify_pb2.ListAnnouncementsResponse(
        announcements=[_announcement()], page=common_pb2.PageResponse(next_cursor="a-0")),
    "ListDeliveries": lambda req, peers: notify_pb2.ListDeliveriesResponse(deliveries=[notify_pb2.Delivery(
        id="d-1", notification_id=req.notification_id, channel="email", status="temporary-failure", attempts=2,
        destination="a***@example.org", reason="smtp 451", not_before=ts(), updated_at=ts(), template_version=3)]),
    "CreateWebhook": lambda req, peers: notify_pb2.Webhook(
        id="w-1", url=req.url, event_types=list(req.event_types), agency_code="ubnd_26743", active=True,
        created_at=ts(), secret="whsec_abc"),
    "ListWebhooks": lambda req, peers: notify_pb2.ListWebhooksResponse(webhooks=[notify_pb2.Webhook(
        id="w-1", url="https://x.example/h", event_types=["routing.v1.sla_warning"], created_at=ts())]),
    "DeleteWebhook": lambda req, peers: notify_pb2.DeleteWebhookResponse(),
    "ListWebhookDeliveries": lambda req, peers: notify_pb2.ListWebhookDeliveriesResponse(
        deliveries=[notify_pb2.WebhookDelivery(id="wd-1", webhook_id=req.webhook_id, event_id="e-1",
                                               event_type="routing.v1.sla_warning", status="failed", attempts=8,
                                               last_status_code=500, updated_at=ts())],
        page=common_pb2.PageResponse()),
    "RedeliverWebhook": lambda req, peers: notify_pb2.WebhookDelivery(
        id=req.delivery_id, webhook_id="w-1", event_id="e-1", event_type="routing.v1.sla_warning",
        status="pending", next_attempt_at=ts()),
}.items():
    DEFAULT_REPLIES.setdefault(_name, _reply)


async def test_unread_count_forwards_the_token(client, peers, bearer):
    headers = bearer()
    r = await client.get("/api/v1/notifications/unread-count", headers=headers)
    assert r.status_code == 200 and r.json() == {"unread_count": 4}
    assert peers.last("CountUnread").metadata["authorization"] == headers["Authorization"]


async def test_mark_all_read(client, peers, bearer):
    r = await client.post("/api/v1/notifications/read", json={"all": True}, headers=bearer())
    assert r.status_code == 200 and r.json() == {"updated": 7}
    assert peers.last("MarkRead").request.all is True


async def test_deliveries_of_a_notification(client, peers, bearer):
    r = await client.get("/api/v1/notifications/n-1/deliveries", headers=bearer())
    assert r.status_code == 200, r.text
    [d] = r.json()["items"]
    assert (d["channel"], d["status"], d["attempts"], d["template_version"]) == ("email", "temporary-failure", 2, 3)
    assert peers.last("ListDeliveries").request.notification_id == "n-1"


async def test_get_preferences(client, bearer):
    r = await client.get("/api/v1/me/preferences", headers=bearer())
    assert r.status_code == 200
    body = r.json()
    assert body["quiet_hours_start"] == "22:00" and body["timezone"] == "Asia/Ho_Chi_Minh"
    assert {"group": "security", "channels": ["sms"], "locked": True} in body["groups"]


async def test_put_preferences_sends_only_the_changes(client, peers, bearer):
    r = await client.put("/api/v1/me/preferences", headers=bearer(),
                         json={"language": "en", "channels": {"reports": ["email", "sms"]}, "quiet_hours_end": "06:30"})
    assert r.status_code == 200, r.text
    sent = peers.last("UpdatePreferences").request.preferences
    assert (sent.language, sent.quiet_hours_start, sent.quiet_hours_end) == ("en", "", "06:30")
    assert [(g.group, list(g.channels)) for g in sent.groups] == [("reports", ["email", "sms"])]


async def test_put_preferences_validates_at_the_edge(client, peers, bearer):
    for body in ({"channels": {"reports": ["fax"]}}, {"channels": {"nope": ["email"]}},
                 {"quiet_hours_start": "25:00"}, {"language": "fr"}, {"colour": "blue"}):
        r = await client.put("/api/v1/me/preferences", headers=bearer(), json=body)
        assert r.status_code == 400, body
    assert "UpdatePreferences" not in peers.calls


async def test_locked_preference_error_is_localized(client, peers, bearer):
    peers.fail("UpdatePreferences", grpc.StatusCode.INVALID_ARGUMENT, "locked", code="preference_locked")
    r = await client.put("/api/v1/me/preferences", headers={**bearer(), "Accept-Language": "en"},
                         json={"channels": {"security": []}})
    assert r.status_code == 400 and r.json()["code"] == "preference_locked"
    assert r.json()["title"] == "Cannot be switched off"


async def test_publish_announcement(client, peers, bearer):
    body = {"title": {"vi": "Cắt nước", "en": "Water cut"}, "body": {"vi": "Sáng mai", "en": "Tomorrow"},
            "urgent": True, "ward_codes": ["26743"], "expires_at": "2030-01-01T00:00:00Z"}
    r = await client.post("/api/v1/announcements", json=body,
                          headers={**bearer(role="operator"), "Idempotency-Key": "ann-1"})
    assert r.status_code == 201, r.text
    assert r.json()["id"] == "a-1" and r.json()["fanout_status"] == "pending"
    sent = peers.last("PublishAnnouncement").request
    assert sent.idempotency_key == "ann-1" and list(sent.ward_codes) == ["26743"] and sent.urgent
    assert sent.expires_at.ToJsonString() == "2030-01-01T00:00:00Z"


async def test_publish_announcement_needs_sign_in_and_valid_wards(client, peers, bearer):
    body = {"title": {"vi": "a", "en": "a"}, "body": {"vi": "b", "en": "b"}}
    assert (await client.post("/api/v1/announcements", json=body)).status_code == 401
    r = await client.post("/api/v1/announcements", json={**body, "ward_codes": ["123"]}, headers=bearer())
    assert r.status_code == 400
    assert "PublishAnnouncement" not in peers.calls


async def test_announcement_feed_is_public(client, peers):
    r = await client.get("/api/v1/announcements?ward_code=26743&limit=5")
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] == "a-0" and r.json()["items"][0]["title"]["en"] == "Water cut"
    sent = peers.last("ListAnnouncements")
    assert sent.request.ward_code == "26743" and sent.request.page.limit == 5
    assert "authorization" not in sent.metadata


async def test_create_webhook_shows_the_secret_once(client, peers, bearer):
    r = await client.post("/api/v1/webhooks", headers=bearer(role="client"),
                          json={"url": "https://x.example/h", "event_types": ["routing.v1.sla_warning"]})
    assert r.status_code == 201, r.text
    assert r.json()["secret"] == "whsec_abc" and r.headers["cache-control"] == "no-store"
    assert list(peers.last("CreateWebhook").request.event_types) == ["routing.v1.sla_warning"]
    listed = (await client.get("/api/v1/webhooks", headers=bearer(role="client"))).json()["items"]
    assert listed[0]["secret"] is None


async def test_create_webhook_rejects_unknown_event_types_at_the_edge(client, peers, bearer):
    r = await client.post("/api/v1/webhooks", headers=bearer(role="client"),
                          json={"url": "https://x.example/h", "event_types": ["identity.v1.user_registered"]})
    assert r.status_code == 400 and "CreateWebhook" not in peers.calls


async def test_webhook_delivery_log_redeliver_and_delete(client, peers, bearer):
    headers = bearer(role="client")
    r = await client.get("/api/v1/webhooks/w-1/deliveries", headers=headers)
    assert r.status_code == 200 and r.json()["items"][0]["status"] == "failed"
    assert peers.last("ListWebhookDeliveries").request.webhook_id == "w-1"
    r = await client.post("/api/v1/webhooks/deliveries/wd-1/redeliver", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "pending"
    r = await client.delete("/api/v1/webhooks/w-1", headers=headers)
    assert r.status_code == 204 and peers.last("DeleteWebhook").request.id == "w-1"

"""Happy paths: every route maps JSON <-> proto fields and forwards the caller's token."""

from __future__ import annotations

from congdanso.reports.v1 import reports_pb2

REPORT_IN = {"kind": "proposal", "category_code": "road_pothole", "description": "Đề xuất trồng thêm cây xanh.",
             "location": {"latitude": 10.78, "longitude": 106.7, "ward_code": "26734", "address": "1 Lê Lợi"},
             "visibility": "private", "anonymous": True}


async def test_register_maps_fields_and_returns_201(client, peers):
    body = {"phone": "0901234567", "password": "mat-khau-dai", "full_name": "Trần Thị B", "language": "en",
            "home_ward_code": "26734"}
    r = await client.post("/api/v1/auth/register", json=body)
    assert r.status_code == 201, r.text
    user = r.json()["user"]
    assert user == {"id": "u-1", "phone": "0901234567", "full_name": "Trần Thị B", "language": "en",
                    "home_ward_code": "26734", "role": "citizen", "agency_code": "", "assurance_level": 1,
                    "created_at": "2025-07-01T08:00:00Z"}
    sent = peers.last("Register").request
    assert (sent.phone, sent.password, sent.language) == ("0901234567", "mat-khau-dai", "en")


async def test_register_defaults_language_vi(client, peers):
    r = await client.post("/api/v1/auth/register",
                          json={"phone": "0901234567", "password": "mat-khau-dai", "full_name": "B"})
    assert r.status_code == 201
    assert peers.last("Register").request.language == "vi"
    assert peers.last("Register").request.home_ward_code == ""


async def test_login_passes_client_ip_and_returns_tokens(client, peers):
    r = await client.post("/api/v1/auth/login", json={"phone": "0901234567", "password": "pw"})
    assert r.status_code == 200
    assert r.json() == {"access_token": "at-1", "refresh_token": "rt-1", "token_type": "Bearer", "expires_in": 900}
    assert peers.last("Login").request.client_ip == "127.0.0.1"
    assert r.headers["cache-control"] == "no-store"


async def test_refresh_returns_the_new_pair(client, peers):
    r = await client.post("/api/v1/auth/refresh", json={"refresh_token": "rt-1"})
    assert r.status_code == 200
    assert r.json()["access_token"] == "at-2"
    assert peers.last("Refresh").request.refresh_token == "rt-1"


async def test_logout_forwards_the_token_and_returns_204(client, peers, bearer):
    headers = bearer()
    r = await client.post("/api/v1/auth/logout", headers=headers)
    assert r.status_code == 204
    assert r.content == b""
    assert peers.last("Logout").metadata["authorization"] == headers["Authorization"]


async def test_me_returns_the_user(client, peers, bearer):
    r = await client.get("/api/v1/me", headers=bearer())
    assert r.status_code == 200
    assert r.json()["phone"] == "+84901234567"
    assert peers.last("GetMe").metadata["authorization"].startswith("Bearer ")


async def test_submit_report_maps_fields_forwards_idempotency_key_and_sets_location(client, peers, bearer):
    r = await client.post("/api/v1/reports", json=REPORT_IN, headers={**bearer(), "Idempotency-Key": "k-123"})
    assert r.status_code == 201, r.text
    assert r.headers["location"] == "/api/v1/reports/r-new"
    sent = peers.last("SubmitReport")
    assert sent.request.idempotency_key == "k-123"
    assert sent.request.kind == reports_pb2.REPORT_KIND_PROPOSAL
    assert sent.request.visibility == reports_pb2.VISIBILITY_PRIVATE
    assert sent.request.anonymous is True
    assert sent.request.location.ward_code == "26734" and sent.request.location.latitude == 10.78
    assert 3.0 < sent.time_remaining <= 5.1  # the gateway's 5 s deadline travels with the call
    report = r.json()
    assert report["kind"] == "proposal" and report["status"] == "submitted" and report["visibility"] == "private"
    assert report["agency"] is None and report["ack_due_at"] is None and report["resolve_due_at"] is None
    assert report["location"] == REPORT_IN["location"]
    assert report["timeline"] == []


async def test_submit_report_without_location_or_key(client, peers, bearer):
    body = {k: v for k, v in REPORT_IN.items() if k != "location"}
    r = await client.post("/api/v1/reports", json=body, headers=bearer())
    assert r.status_code == 201
    sent = peers.last("SubmitReport").request
    assert not sent.HasField("location")
    assert sent.idempotency_key == ""
    assert r.json()["location"] is None


async def test_get_report_maps_every_field(client, peers, bearer):
    r = await client.get("/api/v1/reports/r-7", headers=bearer())
    assert r.status_code == 200
    assert r.json() == {
        "id": "r-7", "kind": "incident", "category_code": "road_pothole", "category_group": "roads",
        "description": "Ổ gà lớn giữa đường",
        "location": {"latitude": 10.7769, "longitude": 106.7009, "ward_code": "26734", "address": "12 Lê Lợi"},
        "status": "assigned", "visibility": "public", "anonymous": False, "reporter_id": "u-1",
        "agency": {"code": "ubnd_26734", "name": {"vi": "UBND phường Sài Gòn", "en": "Saigon Ward People's Committee"}},
        "ack_due_at": "2025-07-02T08:00:00Z", "resolve_due_at": None, "submitted_at": "2025-07-01T08:00:00Z",
        "updated_at": "2025-07-01T08:00:00Z", "version": 2,
        "followers": 0, "comments": 0, "following": False, "rating": None, "rating_comment": "",
        "resolved_at": None, "closed_at": None, "reject_reason": None, "merged_into": None, "attributes": {},
        "media": [],
        "timeline": [
            {"id": "t-1", "status": "submitted", "action": "", "actor_role": "citizen", "note": "",
             "at": "2025-07-01T08:00:00Z"},
            {"id": "t-2", "status": "assigned", "action": "", "actor_role": "system", "note": "routed",
             "at": "2025-07-01T08:00:00Z"}],
    }
    assert peers.last("GetReport").request.id == "r-7"


async def test_get_report_anonymously_omits_empty_reporter(client, peers, make_report):
    peers.replies["GetReport"] = make_report(reporter_id="", agency_code="", visibility=0)
    r = await client.get("/api/v1/reports/r-1")
    assert r.status_code == 200
    body = r.json()
    assert "reporter_id" not in body
    assert body["agency"] is None and body["visibility"] == "public"
    assert "authorization" not in peers.last("GetReport").metadata


async def test_categories_wards_agencies(client, peers):
    r = await client.get("/api/v1/categories", params={"include_inactive": "true"})
    assert r.status_code == 200
    assert r.json() == {"items": [{"code": "road_pothole", "name": {"vi": "Ổ gà", "en": "Pothole"},
                                   "kind": "incident", "group": "roads", "active": True, "photo_required": True,
                                   "urgent": False, "description": {"vi": "", "en": ""}, "attributes": []}]}
    assert peers.last("ListCategories").request.include_inactive is True

    r = await client.get("/api/v1/wards")
    assert r.json() == {"items": [{"code": "26734", "name": "Phường Sài Gòn", "division_type": "phường"}]}

    r = await client.get("/api/v1/agencies", params={"limit": 2, "kind": "ward_committee"})
    body = r.json()
    assert body["next_cursor"] == "c-2"
    assert body["items"][0] == {"code": "ubnd_26734", "name": {"vi": "UBND", "en": "PC"}, "kind": "ward_committee",
                                "parent_code": "ioc", "ward_code": "26734", "active": False, "contact": ""}
    sent = peers.last("ListAgencies").request
    assert (sent.page.limit, sent.page.cursor, sent.kind) == (2, "", "ward_committee")

    r = await client.get("/api/v1/agencies", params={"cursor": "c-2", "kind": ""})
    assert r.json()["next_cursor"] is None
    assert peers.last("ListAgencies").request.page.limit == 50


async def test_notifications_list_and_mark_read(client, peers, bearer):
    r = await client.get("/api/v1/notifications", params={"unread_only": "true", "limit": 5}, headers=bearer())
    assert r.status_code == 200
    assert r.json() == {"items": [{"id": "n-1", "type": "report_assigned", "title": "Đã chuyển", "body": "...",
                                   "report_id": "r-1", "read": False, "created_at": "2025-07-01T08:00:00Z"}],
                        "next_cursor": None, "unread_count": 3}
    sent = peers.last("ListNotifications")
    assert sent.request.unread_only is True and sent.request.page.limit == 5
    assert sent.metadata["authorization"].startswith("Bearer ")

    r = await client.post("/api/v1/notifications/read", json={"ids": ["n-1", "n-2"]}, headers=bearer())
    assert r.json() == {"updated": 2}
    assert list(peers.last("MarkRead").request.ids) == ["n-1", "n-2"]
    r = await client.post("/api/v1/notifications/read", json={"all": True}, headers=bearer())
    assert r.json() == {"updated": 7}
    assert peers.last("MarkRead").request.all is True

"""The whole system as real OS processes (started by the same supervisor as `make run`), driven over HTTP."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.conftest import poll

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

REPORT = {"kind": "incident", "category_code": "flooding", "description": "Đường Lê Lợi ngập sâu sau mưa lớn",
          "location": {"latitude": 10.7731, "longitude": 106.7004, "ward_code": "26743", "address": "Lê Lợi, Bến Thành"}}


async def test_report_walks_from_submission_to_assignment_and_inbox(system):
    headers = await system.token()
    unread_before = (await system.http.get("/api/v1/notifications", headers=headers)).json()["unread_count"]
    t0 = time.monotonic()
    r = await system.http.post("/api/v1/reports", json=REPORT, headers=headers)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["status"] == "submitted" and r.headers["location"].endswith(report["id"])

    async def assigned():
        got = (await system.http.get(f"/api/v1/reports/{report['id']}", headers=headers)).json()
        return got if got["status"] == "assigned" else None

    got = await poll(assigned)
    assigned_after = time.monotonic() - t0
    assert got["agency"]["code"] == "thoatnuoc"  # flooding -> the drainage company, city-wide rule
    assert got["agency"]["name"]["vi"].startswith("Công ty")
    assert got["resolve_due_at"] and got["ack_due_at"]
    assert [e["status"] for e in got["timeline"]] == ["submitted", "assigned"]

    async def inbox():
        items = (await system.http.get("/api/v1/notifications", headers=headers)).json()["items"]
        mine = [i for i in items if i["report_id"] == report["id"]]
        return mine if {i["type"] for i in mine} >= {"report_submitted", "report_assigned"} else None

    items = await poll(inbox)
    inbox_after = time.monotonic() - t0
    assigned_item = next(i for i in items if i["type"] == "report_assigned")
    assert "Thoát nước" in assigned_item["body"] and not assigned_item["read"]
    unread_after = (await system.http.get("/api/v1/notifications", headers=headers)).json()["unread_count"]
    assert unread_after >= unread_before + 2
    print(f"\nsystem healthy in {system.started_in:.2f}s; submitted->assigned {assigned_after*1000:.0f} ms; "
          f"submitted->inbox {inbox_after*1000:.0f} ms")


async def test_one_trace_spans_gateway_reports_routing_and_notify(system):
    headers = await system.token()
    r = await system.http.post("/api/v1/reports", json=REPORT, headers=headers)
    assert r.status_code == 201
    trace_id = r.headers.get("traceparent", "").split("-")[1] if r.headers.get("traceparent") else None
    report_id = r.json()["id"]

    async def inbox_has_it():
        items = (await system.http.get("/api/v1/notifications", headers=headers)).json()["items"]
        return any(i["report_id"] == report_id and i["type"] == "report_assigned" for i in items)

    await poll(inbox_has_it)

    def full_trace():
        candidates = [trace_id] if trace_id else {t for s, t, n in system.sink.spans if s == "gateway" and "POST" in n}
        for t in candidates:
            if system.sink.services_in_trace(t) >= {"gateway", "reports", "routing", "notify"}:
                return t
        return None

    async def wait_trace():
        return full_trace()

    assert await poll(wait_trace, timeout=15, interval=0.2)


@pytest.mark.parametrize(("body", "status", "code"), [
    (b'{"kind": "incident", "category_code": ', 400, "malformed_json"),
    ({**REPORT, "category_code": "no_such_category"}, 400, "unknown_category"),
    ({**REPORT, "location": {**REPORT["location"], "ward_code": "99999"}}, 400, "unknown_ward"),
    ({**REPORT, "location": {**REPORT["location"], "latitude": 21.03, "longitude": 105.85}}, 400,
     "location_outside_city"),
    ({**REPORT, "description": "x" * 70_000}, 413, "payload_too_large"),
])
async def test_bad_input_gets_problem_json_and_writes_nothing(system, body, status, code):
    headers = await system.token()
    unread = (await system.http.get("/api/v1/notifications", headers=headers)).json()["unread_count"]
    if isinstance(body, bytes):
        r = await system.http.post("/api/v1/reports", content=body,
                                   headers={**headers, "Content-Type": "application/json"})
    else:
        r = await system.http.post("/api/v1/reports", json=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code and "Traceback" not in r.text
    await asyncio.sleep(0.3)  # had anything been written, its notification would be on its way
    assert (await system.http.get("/api/v1/notifications", headers=headers)).json()["unread_count"] == unread


async def test_missing_or_bad_token_is_401(system):
    r = await system.http.post("/api/v1/reports", json=REPORT)
    assert r.status_code == 401 and r.json()["code"] == "auth_required"
    r = await system.http.post("/api/v1/reports", json=REPORT, headers={"Authorization": "Bearer abc.def.ghi"})
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"


async def test_idempotent_submission_returns_the_same_report(system):
    headers = {**await system.token(), "Idempotency-Key": "flood-2026-11-29-001"}
    first = await system.http.post("/api/v1/reports", json=REPORT, headers=headers)
    again = await system.http.post("/api/v1/reports", json=REPORT, headers=headers)
    assert first.status_code == 201 and again.status_code in (200, 201)
    assert first.json()["id"] == again.json()["id"]
    other = await system.http.post("/api/v1/reports", json={**REPORT, "description": "Một nội dung khác hẳn"},
                                   headers=headers)
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"


async def test_reference_data_is_served(system):
    wards = (await system.http.get("/api/v1/wards")).json()["items"]
    assert len(wards) == 168 and {"code": "26743", "name": "Phường Bến Thành", "division_type": "phường"} in wards
    cats = (await system.http.get("/api/v1/categories")).json()["items"]
    assert any(c["code"] == "flooding" and c["name"]["en"] for c in cats)
    page = (await system.http.get("/api/v1/agencies", params={"limit": 100})).json()
    page2 = (await system.http.get("/api/v1/agencies", params={"limit": 100, "cursor": page["next_cursor"]})).json()
    codes = [a["code"] for a in page["items"] + page2["items"]]
    assert len(codes) == len(set(codes)) >= 180 and "ioc" in codes

"""A report's whole life over HTTP: officer work, resident answers, comments, follows, rating,
public feed privacy, search without diacritics, lists and statistics."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import OFFICER, OPERATOR, bearer, poll, signed_up
from tests.e2e.photos import with_photo

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

DUMPING = {"kind": "incident", "category_code": "illegal_dumping",
           "description": "Có người đổ rác thải xây dựng trái phép ở đầu hẻm, liên hệ tôi 0901 234 567",
           "location": {"latitude": 10.7725, "longitude": 106.6980, "ward_code": "26743",
                        "address": "Hẻm 12 Lê Thánh Tôn"}}


async def new_resident(system) -> dict[str, str]:  # noqa: ANN001
    """A freshly signed-up (phone-verified) resident's Authorization header."""
    local = f"{uuid.uuid4().int % 10**7:07d}"
    tokens = await signed_up(system, f"091{local}", f"+8491{local}", name="Người Theo Dõi")
    return bearer(tokens)


async def assigned_report(system, headers, body=DUMPING) -> dict:  # noqa: ANN001
    """File `body` with a photo (illegal_dumping is photo_required) and wait until routing assigned it."""
    r = await system.http.post("/api/v1/reports", json=await with_photo(system, headers, body), headers=headers)
    assert r.status_code == 201, r.text

    async def ready():
        got = (await system.http.get(f"/api/v1/reports/{r.json()['id']}", headers=headers)).json()
        return got if got["status"] == "assigned" else None

    return await poll(ready)


async def act(system, headers, report_id, **body):  # noqa: ANN001, ANN003, ANN201
    return await system.http.post(f"/api/v1/reports/{report_id}/transitions", json=body, headers=headers)


async def test_officer_works_the_report_and_resident_confirms_and_rates(system):
    citizen, officer = await system.token(), await system.token(OFFICER)
    report = await assigned_report(system, citizen)
    assert report["agency"]["code"] == "ubnd_26743"  # illegal dumping: the ward's People's Committee
    rid = report["id"]

    r = await act(system, citizen, rid, action="acknowledge")
    assert r.status_code == 403 and r.json()["code"] == "transition_not_allowed"
    r = await act(system, officer, rid, action="acknowledge", expected_version=report["version"] - 1)
    assert r.status_code == 409 and r.json()["code"] == "version_conflict"
    r = await act(system, officer, rid, action="acknowledge", expected_version=report["version"])
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    r = await act(system, officer, rid, action="resolve")
    assert r.status_code == 400 and r.json()["code"] == "note_required"
    r = await act(system, citizen, rid, action="confirm")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    r = await act(system, officer, rid, action="resolve", note="Đã thu gom rác và lập biên bản xử phạt.")
    assert r.status_code == 200 and r.json()["status"] == "resolved" and r.json()["resolved_at"]

    r = await act(system, citizen, rid, action="reopen", note="Sáng nay lại có rác.")
    assert r.status_code == 200 and r.json()["status"] == "assigned"

    async def reassigned():  # routing gives the reopened report to the same agency with fresh deadlines
        got = (await system.http.get(f"/api/v1/reports/{rid}", headers=citizen)).json()
        return [e["action"] for e in got["timeline"]][-1] == "assign" and got

    got = await poll(reassigned)
    assert got["agency"]["code"] == "ubnd_26743" and got["resolve_due_at"] >= report["resolve_due_at"]
    await act(system, officer, rid, action="acknowledge")
    await act(system, officer, rid, action="resolve", note="Đã lắp camera và biển cấm.")
    r = await system.http.post(f"/api/v1/reports/{rid}/rating", json={"stars": 5, "comment": "Rất nhanh"},
                               headers=citizen)
    assert r.status_code == 200 and r.json()["rating"] == 5
    r = await system.http.post(f"/api/v1/reports/{rid}/rating", json={"stars": 1}, headers=citizen)
    assert r.status_code == 409 and r.json()["code"] == "already_rated"
    r = await act(system, citizen, rid, action="confirm")
    assert r.json()["status"] == "closed" and r.json()["closed_at"]
    actions = [e["action"] for e in r.json()["timeline"]]
    assert actions == ["submit", "assign", "acknowledge", "resolve", "reopen", "assign", "acknowledge", "resolve",
                       "confirm"]


async def test_other_agency_officer_cannot_touch_it_and_reject_needs_a_reason(system):
    citizen, officer, operator = await system.token(), await system.token(OFFICER), await system.token(OPERATOR)
    flood = {**DUMPING, "category_code": "flooding", "description": "Ngập nước sâu 40cm trước chợ Bến Thành"}
    report = await assigned_report(system, citizen, flood)  # -> the drainage company, not the ward
    r = await act(system, officer, report["id"], action="acknowledge")
    assert r.status_code == 403 and r.json()["code"] == "other_agency"
    r = await act(system, operator, report["id"], action="reject")
    assert r.status_code == 400 and r.json()["code"] == "invalid_reason"
    r = await act(system, operator, report["id"], action="reject", reason="duplicate")
    assert r.json()["status"] == "rejected" and r.json()["reject_reason"] == "duplicate"


async def test_resident_may_withdraw_before_work_starts(system):
    citizen = await system.token()
    report = await assigned_report(system, citizen)
    r = await act(system, citizen, report["id"], action="withdraw")
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    stranger = await new_resident(system)
    other = await assigned_report(system, citizen)
    r = await act(system, stranger, other["id"], action="withdraw")
    assert r.status_code == 403 and r.json()["code"] == "not_reporter"


async def test_follow_comments_and_internal_notes(system):
    citizen, officer = await system.token(), await system.token(OFFICER)
    neighbour = await new_resident(system)
    report = await assigned_report(system, citizen)
    rid = report["id"]
    r = await system.http.put(f"/api/v1/reports/{rid}/follow", headers=neighbour)
    assert r.json() == {"following": True, "followers": 1}
    r = await system.http.put(f"/api/v1/reports/{rid}/follow", headers=neighbour)  # idempotent
    assert r.json() == {"following": True, "followers": 1}
    assert (await system.http.post(f"/api/v1/reports/{rid}/comments", json={"body": "Tôi cũng thấy, gọi 0987 111 222"},
                                   headers=neighbour)).status_code == 201
    r = await system.http.post(f"/api/v1/reports/{rid}/comments", json={"body": "Chủ thầu: ông Tư", "internal": True},
                               headers=officer)
    assert r.status_code == 201
    r = await system.http.post(f"/api/v1/reports/{rid}/comments", json={"body": "x", "internal": True},
                               headers=neighbour)
    assert r.status_code == 403 and r.json()["code"] == "internal_comment_forbidden"
    public = (await system.http.get(f"/api/v1/reports/{rid}/comments")).json()["items"]
    assert [c["internal"] for c in public] == [False] and "0987" not in public[0]["body"]
    staff = (await system.http.get(f"/api/v1/reports/{rid}/comments", headers=officer)).json()["items"]
    assert [c["internal"] for c in staff] == [False, True]
    got = (await system.http.get(f"/api/v1/reports/{rid}", headers=neighbour)).json()
    assert got["followers"] == 1 and got["following"] is True and got["comments"] == 1
    r = await system.http.delete(f"/api/v1/reports/{rid}/follow", headers=neighbour)
    assert r.json() == {"following": False, "followers": 0}


async def test_public_feed_masks_personal_data_and_search_ignores_diacritics(system):
    citizen = await system.token()
    report = await assigned_report(system, citizen)
    public = (await system.http.get(f"/api/v1/reports/{report['id']}")).json()
    assert "0901 234 567" not in public["description"] and "[đã ẩn]" in public["description"]
    assert "reporter_id" not in public
    mine = (await system.http.get(f"/api/v1/reports/{report['id']}", headers=citizen)).json()
    assert "0901 234 567" in mine["description"] and mine["reporter_id"]
    for q in ("đổ rác xây dựng", "do rac xay dung", "DO RAC", "hem le thanh ton"):
        items = (await system.http.get("/api/v1/reports", params={"q": q, "limit": 100})).json()["items"]
        assert report["id"] in [i["id"] for i in items], q
    items = (await system.http.get("/api/v1/reports", params={"q": "cây đổ", "limit": 100})).json()["items"]
    assert report["id"] not in [i["id"] for i in items]


async def test_lists_paginate_and_respect_scopes(system):
    citizen, officer = await system.token(), await system.token(OFFICER)
    for _ in range(3):
        await assigned_report(system, citizen)
    seen: list[str] = []
    cursor = ""
    while True:
        page = (await system.http.get("/api/v1/reports", params={"scope": "mine", "limit": 2, "cursor": cursor},
                                      headers=citizen)).json()
        seen += [i["id"] for i in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) >= 3 and seen == sorted(seen, reverse=True)
    queue = (await system.http.get("/api/v1/agency/queue", headers=officer)).json()["items"]
    dues = [i["resolve_due_at"] for i in queue]
    assert queue and all(i["agency"]["code"] == "ubnd_26743" for i in queue) and dues == sorted(dues)
    r = await system.http.get("/api/v1/reports", params={"scope": "agency"}, headers=citizen)
    assert r.status_code == 403
    r = await system.http.get("/api/v1/reports", params={"scope": "mine"})
    assert r.status_code == 401
    r = await system.http.get("/api/v1/reports", params={"cursor": "garbage!!"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_cursor"


async def test_stats_per_agency(system):
    start = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    r = await system.http.get("/api/v1/stats", params={"from": start, "group_by": "agency"})
    assert r.status_code == 200, r.text
    rows = {row["key"]: row for row in r.json()["rows"]}
    ward = rows["ubnd_26743"]
    assert ward["total"] >= 1 and sum(ward["by_status"].values()) == ward["total"]
    assert 0.0 <= ward["on_time_rate"] <= 1.0
    bad = await system.http.get("/api/v1/stats", params={"from": start, "group_by": "planet"})
    assert bad.status_code == 400


async def test_nearby_check_and_merging_a_duplicate(system):
    citizen, officer = await system.token(), await system.token(OFFICER)
    neighbour = await new_resident(system)
    parent = await assigned_report(system, citizen)
    duplicate = await assigned_report(system, neighbour, {**DUMPING, "description": "Lại có rác đổ ở đầu hẻm này",
                                                          "location": {**DUMPING["location"], "latitude": 10.7726}})
    near = (await system.http.get("/api/v1/reports/nearby", params={
        "lat": 10.7725, "lon": 106.6980, "radius_m": 100, "category": "illegal_dumping"})).json()["items"]
    ids = [i["id"] for i in near]
    assert parent["id"] in ids and duplicate["id"] in ids
    far = (await system.http.get("/api/v1/reports/nearby", params={"lat": 10.80, "lon": 106.66, "radius_m": 100})).json()
    assert parent["id"] not in [i["id"] for i in far["items"]]
    r = await system.http.post(f"/api/v1/reports/{duplicate['id']}/merge", json={"parent_id": parent["id"]},
                               headers=neighbour)
    assert r.status_code == 403
    r = await system.http.post(f"/api/v1/reports/{duplicate['id']}/merge", json={"parent_id": parent["id"]},
                               headers=officer)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["reject_reason"], r.json()["merged_into"]) == (
        "rejected", "duplicate", parent["id"])
    got = (await system.http.get(f"/api/v1/reports/{parent['id']}", headers=neighbour)).json()
    assert got["following"] is True and got["followers"] >= 1

"""Routing over HTTP against the whole running system: agencies, rules, dry-run, calendar, transfers."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CITIZEN, OFFICER, OPERATOR, poll
from tests.e2e.photos import with_photo

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

DUMPING = {"kind": "incident", "category_code": "illegal_dumping",
           "description": "Rác bị đổ trộm ở góc đường Lê Thánh Tôn nhiều ngày",
           "location": {"latitude": 10.7731, "longitude": 106.7004, "ward_code": "26743", "address": "Lê Thánh Tôn"}}


async def test_agencies_are_public_and_managed_by_operators(system):
    http = system.http
    one = await http.get("/api/v1/agencies/ubnd_26743")
    assert one.status_code == 200 and one.json()["kind"] == "ward_committee" and one.json()["parent_code"] == "ioc"
    page = (await http.get("/api/v1/agencies", params={"kind": "utility"})).json()
    assert {"evnhcmc", "sawaco"} <= {a["code"] for a in page["items"]}
    body = {"code": "so_tc", "name": {"vi": "Sở Tài chính TP.HCM", "en": "HCMC Department of Finance"},
            "kind": "department", "parent_code": "ioc", "contact": "028 3829 0000"}
    denied = await http.post("/api/v1/agencies", json=body, headers=await system.token(CITIZEN))
    assert denied.status_code == 403 and denied.json()["code"] == "role_not_allowed"
    operator = await system.token(OPERATOR)
    created = await http.post("/api/v1/agencies", json=body, headers=operator)
    assert created.status_code == 201 and created.headers["location"] == "/api/v1/agencies/so_tc"
    again = await http.post("/api/v1/agencies", json=body, headers=operator)
    assert again.status_code == 409 and again.json()["code"] == "agency_exists"
    update = {k: v for k, v in body.items() if k != "code"} | {"active": False}
    assert (await http.put("/api/v1/agencies/so_tc", json=update, headers=operator)).json()["active"] is False
    hidden = (await http.get("/api/v1/agencies", params={"kind": "department"})).json()["items"]
    shown = (await http.get("/api/v1/agencies", params={"kind": "department", "include_inactive": True},
                            headers=operator)).json()["items"]
    assert "so_tc" not in {a["code"] for a in hidden} and "so_tc" in {a["code"] for a in shown}
    missing = await http.get("/api/v1/agencies/so_none", headers={"Accept-Language": "en"})
    assert missing.status_code == 404 and missing.json()["title"] == "Agency not found"


async def test_dry_run_names_the_rule_version_and_the_deadlines(system):
    officer = await system.token(OFFICER)
    r = await system.http.get("/api/v1/routing/explain", headers=officer, params={
        "kind": "incident", "category_code": "illegal_dumping", "ward_code": "26743", "at": "2026-03-03T02:00:00Z"})
    assert r.status_code == 200, r.text
    e = r.json()
    assert e["agency"]["code"] == "ubnd_26743" and e["category_group"] == "waste"  # group looked up in reports
    assert (e["rule_id"], e["rule_version"], e["triage"]) == ("r-illegal-dumping-ward", 1, False)
    assert [c["rule"]["id"] for c in e["candidates"]] == ["r-illegal-dumping-ward", "r-waste-city", "r-fallback"]
    assert e["sla"] == {"ack_hours": 4.0, "resolve_hours": 16.0, "calendar": "working"}
    assert e["resolve_due_at"] == "2026-03-05T02:00:00Z"  # 16 working hours from Tuesday 09:00
    citizen = await system.http.get("/api/v1/routing/explain", params={"kind": "incident"},
                                    headers=await system.token(CITIZEN))
    assert citizen.status_code == 403


async def test_rules_are_versioned_and_ties_and_missing_fallbacks_are_refused(system):
    http, operator = system.http, await system.token(OPERATOR)
    rules = (await http.get("/api/v1/routing/rules", headers=operator)).json()["items"]
    current = next(r for r in rules if r["id"] == "r-lighting-con-dao")
    body = {k: current[k] for k in ("kind", "category_code", "category_group", "ward_codes", "agency_code", "priority")}
    saved = await http.put("/api/v1/routing/rules/r-lighting-con-dao", headers=operator,
                           json=body | {"expected_version": 1, "note": "island utilities"})
    assert saved.status_code == 200, saved.text
    assert (saved.json()["version"], saved.json()["note"]) == (2, "island utilities")
    stale = await http.put("/api/v1/routing/rules/r-lighting-con-dao", headers=operator,
                           json=body | {"expected_version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == "rule_version_conflict"
    history = (await http.get("/api/v1/routing/rules", headers=operator,
                              params={"rule_id": "r-lighting-con-dao", "history": True})).json()["items"]
    assert [(r["version"], r["current"]) for r in history] == [(2, True), (1, False)]

    tie = await http.put("/api/v1/routing/rules/r-roads-twin", headers=operator, json={
        "expected_version": 0, "kind": "incident", "category_group": "roads", "agency_code": "ctmt", "priority": 20})
    assert tie.status_code == 409 and tie.json()["code"] == "rule_tie" and "r-roads-city" in tie.json()["detail"]
    off = await http.put("/api/v1/routing/rules/r-fallback", headers=operator,
                         json={"expected_version": 1, "agency_code": "ioc", "enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    roads_off = await http.put("/api/v1/routing/rules/r-roads-city", headers=operator, json={
        "expected_version": 1, "kind": "incident", "category_group": "roads", "agency_code": "so_xd", "priority": 20,
        "enabled": False})
    assert roads_off.status_code == 409 and roads_off.json()["code"] == "rule_fallback_missing"
    back = await http.put("/api/v1/routing/rules/r-fallback", headers=operator,
                          json={"expected_version": 2, "agency_code": "ioc", "enabled": True})
    assert back.json()["version"] == 3
    officer = await http.put("/api/v1/routing/rules/r-fallback", headers=await system.token(OFFICER),
                             json={"expected_version": 3, "agency_code": "ioc"})
    assert officer.status_code == 403


async def test_the_city_calendar_is_public_and_set_by_operators(system):
    http, operator = system.http, await system.token(OPERATOR)
    put = await http.put("/api/v1/routing/calendar/2026-04-25", headers=operator,
                         json={"working": True, "note": "Làm bù cho ngày 30/4"})
    make_up = {"day": "2026-04-25", "working": True, "note": "Làm bù cho ngày 30/4"}
    assert put.status_code == 200 and put.json() == make_up
    cal = (await http.get("/api/v1/routing/calendar", params={"year": 2026})).json()
    assert cal["year"] == 2026 and make_up in cal["days"]
    assert "2026-09-02" in {h["day"] for h in cal["public_holidays"]}
    assert (await http.delete("/api/v1/routing/calendar/2026-04-25", headers=operator)).status_code == 204
    gone = await http.delete("/api/v1/routing/calendar/2026-04-25", headers=operator)
    assert gone.status_code == 404 and gone.json()["code"] == "calendar_day_not_found"
    citizen = await http.put("/api/v1/routing/calendar/2026-04-26", headers=await system.token(CITIZEN),
                             json={"working": False})
    assert citizen.status_code == 403


async def test_officer_sees_the_assignment_and_transfers_the_report(system):
    http = system.http
    citizen, officer, operator = (await system.token(CITIZEN), await system.token(OFFICER),
                                  await system.token(OPERATOR))
    report = (await http.post("/api/v1/reports", json=await with_photo(system, citizen, DUMPING),  # photo_required
                              headers=citizen)).json()

    async def assignment():
        r = await http.get(f"/api/v1/reports/{report['id']}/assignment", headers=officer)
        return r.json() if r.status_code == 200 else None

    a = await poll(assignment)
    assert (a["agency"]["code"], a["rule_id"], a["rule_version"]) == ("ubnd_26743", "r-illegal-dumping-ward", 1)
    assert a["triage"] is False and a["report_status"] == "assigned"
    assert {c["deadline"] for c in a["clocks"]} == {"ack", "resolve"}
    assert (await http.get(f"/api/v1/reports/{report['id']}/assignment", headers=citizen)).status_code == 403

    moved = await http.post(f"/api/v1/reports/{report['id']}/transfer", headers=officer,
                            json={"to_agency_code": "ctmt", "reason": "Thu gom rác thuộc Công ty Môi trường"})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["agency"]["code"], moved.json()["transfer_count"]) == ("ctmt", 1)
    assert moved.json()["transfers"][0]["from_agency_code"] == "ubnd_26743"
    again = await http.post(f"/api/v1/reports/{report['id']}/transfer", headers=officer,
                            json={"to_agency_code": "so_xd", "reason": "thử chuyển lại lần nữa"})
    assert again.status_code == 403 and again.json()["code"] == "not_assigned_agency"
    seen = await http.get(f"/api/v1/reports/{report['id']}/assignment", headers=operator)
    assert seen.json()["agency"]["code"] == "ctmt"
    bad = await http.post(f"/api/v1/reports/{report['id']}/transfer", headers=operator, json={"to_agency_code": "ctmt"})
    assert bad.status_code == 400 and bad.json()["code"] == "validation_error"

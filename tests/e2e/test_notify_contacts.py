"""Notify reaches a resident by SMS with the phone number identity holds (IdentityService.GetContacts),
against the whole system: real processes, the development SMS outbox file."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import CITIZEN, poll

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

REPORT = {"kind": "incident", "category_code": "flooding", "description": "Cống trên đường Lê Lợi bị tắc, nước ngập",
          "location": {"latitude": 10.7731, "longitude": 106.7004, "ward_code": "26743", "address": "Lê Lợi"}}
PHONE = "+84901234567"   # the demo citizen 0901234567


def sms_outbox(system) -> list[dict]:  # noqa: ANN001
    path = system.sup.cfg.sms_outbox
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


async def test_report_updates_reach_the_residents_phone_by_sms(system):
    headers = await system.token(CITIZEN)
    # SMS for report updates; quiet hours start == end means none, so the time of day does not matter
    r = await system.http.put("/api/v1/me/preferences", headers=headers, json={
        "channels": {"reports": ["sms"]}, "quiet_hours_start": "00:00", "quiet_hours_end": "00:00"})
    assert r.status_code == 200, r.text
    prefs = r.json()
    assert {g["group"]: g["channels"] for g in prefs["groups"]}["reports"] == ["inbox", "sms"]
    assert (prefs["quiet_hours_start"], prefs["quiet_hours_end"]) == ("00:00", "00:00")
    assert (await system.http.get("/api/v1/me/preferences", headers=headers)).json() == prefs

    r = await system.http.post("/api/v1/reports", json=REPORT, headers=headers)
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    short_id = report_id[-8:]

    async def assigned_sms():
        return [m for m in sms_outbox(system)
                if m["to"] == PHONE and short_id in m["text"] and "da giao cho" in m["text"]]

    [sms] = await poll(assigned_sms)
    assert sms["text"].startswith(f"Cong dan so: phan anh {short_id} da giao cho ")

    async def assigned_item():
        items = (await system.http.get("/api/v1/notifications", headers=headers)).json()["items"]
        return next((i for i in items if i["report_id"] == report_id and i["type"] == "report_assigned"), None)

    item = await poll(assigned_item)

    async def sms_delivered():
        r = await system.http.get(f"/api/v1/notifications/{item['id']}/deliveries", headers=headers)
        assert r.status_code == 200, r.text
        log = [d for d in r.json()["items"] if d["channel"] == "sms"]
        return log if log and log[0]["status"] == "delivered" else None

    [delivery] = await poll(sms_delivered)
    assert (delivery["destination"], delivery["reason"], delivery["attempts"]) == ("+8490*****67", "", 1)

    async def submitted_sms():   # the submission notice goes out by SMS too (its inbox text)
        return [m for m in sms_outbox(system) if m["to"] == PHONE and short_id in m["text"] and m["id"] != sms["id"]]

    assert await poll(submitted_sms)

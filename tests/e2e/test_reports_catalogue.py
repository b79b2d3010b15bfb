"""Categories with typed extra fields, reports from integration clients, updates feed, and erasure."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.e2e.conftest import OPERATOR, PASSWORD, bearer, poll, signed_up

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
AGENCY_ADMIN = {"phone": "0938765432", "password": "quantri-demo-2025"}
SPOT = {"latitude": 10.7725, "longitude": 106.6980, "ward_code": "26743", "address": "Lê Thánh Tôn"}
CATEGORY = {
    "name": {"vi": "Vỉa hè bị lấn chiếm để bán hàng", "en": "Pavement taken by street vendors"},
    "kind": "incident", "group": "public_order",
    "attributes": [
        {"code": "blocked_width_m", "datatype": "number", "required": True, "order": 1,
         "description": {"vi": "Bề rộng bị chiếm (m)", "en": "Width taken (m)"}},
        {"code": "times", "datatype": "multivaluelist", "order": 2, "description": {"vi": "Thời điểm", "en": "When"},
         "values": [{"key": "morning", "name": {"vi": "Sáng", "en": "Morning"}},
                    {"key": "evening", "name": {"vi": "Tối", "en": "Evening"}}]}]}


async def test_operator_defines_extra_fields_and_reports_must_fill_them(system):
    operator, citizen = await system.token(OPERATOR), await system.token()
    code = f"vendor_{uuid.uuid4().hex[:6]}"
    denied = await system.http.put(f"/api/v1/categories/{code}", json=CATEGORY, headers=citizen)
    assert denied.status_code == 403
    bad = await system.http.put(f"/api/v1/categories/{code}", headers=operator, json={
        **CATEGORY, "attributes": [{"code": "x", "datatype": "singlevaluelist"}]})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_attribute"
    r = await system.http.put(f"/api/v1/categories/{code}", json=CATEGORY, headers=operator)
    assert r.status_code == 200, r.text
    got = (await system.http.get(f"/api/v1/categories/{code}")).json()
    assert [a["code"] for a in got["attributes"]] == ["blocked_width_m", "times"]
    base = {"kind": "incident", "category_code": code, "description": "Hàng rong chiếm hết vỉa hè", "location": SPOT}
    for attrs, err in (({}, "attribute_required"), ({"blocked_width_m": "rộng"}, "invalid_attribute"),
                       ({"blocked_width_m": "2", "times": "noon"}, "invalid_attribute"),
                       ({"blocked_width_m": "2", "colour": "red"}, "invalid_attribute")):
        r = await system.http.post("/api/v1/reports", json={**base, "attributes": attrs}, headers=citizen)
        assert r.status_code == 400 and r.json()["code"] == err, (attrs, r.text)
    r = await system.http.post("/api/v1/reports", headers=citizen,
                               json={**base, "attributes": {"blocked_width_m": "2.5", "times": "evening,morning"}})
    assert r.status_code == 201, r.text
    assert r.json()["attributes"] == {"blocked_width_m": "2.5", "times": "evening,morning"}


async def client_token(system, scopes: list[str]) -> dict[str, str]:  # noqa: ANN001
    admin = await system.token(AGENCY_ADMIN)
    created = (await system.http.post("/api/v1/clients", headers=admin, json={
        "name": "Hệ thống một cửa", "scopes": scopes, "agency_code": "ubnd_26743"})).json()
    basic = base64.b64encode(f"{created['client']['id']}:{created['client_secret']}".encode()).decode()
    r = await system.http.post("/api/v1/auth/token", headers={"Authorization": f"Basic {basic}"},
                               data={"grant_type": "client_credentials"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_agency_system_files_and_works_reports_as_a_client(system):
    reader = await client_token(system, ["reports:read"])
    writer = await client_token(system, ["reports:read", "reports:write"])
    body = {"kind": "incident", "category_code": "illegal_dumping", "description": "Bãi rác tự phát gần trường học",
            "location": SPOT, "attributes": {"waste_types": "household,construction"}}
    assert (await system.http.post("/api/v1/reports", json=body, headers=reader)).status_code == 403
    r = await system.http.post("/api/v1/reports", json=body, headers=writer)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]

    async def assigned():
        got = (await system.http.get(f"/api/v1/reports/{rid}", headers=writer)).json()
        return got if got["status"] == "assigned" else None

    await poll(assigned)
    r = await system.http.post(f"/api/v1/reports/{rid}/transitions", json={"action": "acknowledge"}, headers=reader)
    assert r.status_code == 403
    r = await system.http.post(f"/api/v1/reports/{rid}/transitions", json={"action": "acknowledge"}, headers=writer)
    assert r.status_code == 200 and r.json()["status"] == "in_progress"


async def test_deleted_account_leaves_pseudonymised_reports(system):
    local = f"{uuid.uuid4().int % 10**7:07d}"
    tokens = await signed_up(system, f"093{local}", f"+8493{local}", name="Sẽ Xoá")
    me = (await system.http.get("/api/v1/me", headers=bearer(tokens))).json()
    r = await system.http.post("/api/v1/reports", headers=bearer(tokens), json={
        "kind": "feedback", "category_code": "feedback_service_quality",
        "description": "Cán bộ hướng dẫn tận tình, gọi tôi số 0931234567 nếu cần"})
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    assert (await system.http.post("/api/v1/me/delete", json={"password": PASSWORD},
                                   headers=bearer(tokens))).status_code == 204
    operator = await system.token(OPERATOR)

    async def pseudonymised():
        got = (await system.http.get(f"/api/v1/reports/{rid}", headers=operator)).json()
        return got if got["reporter_id"] != me["id"] else None

    got = await poll(pseudonymised)
    assert got["reporter_id"].startswith("deleted-") and "0931234567" not in got["description"]
    assert got["status"] in ("submitted", "assigned")  # kept for statistics

"""Idempotency-Key on every creating POST, against the whole system: a retry with the same key and body
gets the same status and body and creates nothing more; the same key with another body is a 409."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
import pytest_asyncio
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.e2e.conftest import CITIZEN, OPERATOR, poll
from tests.e2e.photos import with_photo

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
AGENCY_ADMIN = {"phone": "0938765432", "password": "quantri-demo-2025"}  # ubnd_26743
DUMPING = {"kind": "incident", "category_code": "illegal_dumping",
           "description": "Đổ xà bần trái phép ở đầu hẻm, cần xử lý gấp",
           "location": {"latitude": 10.7725, "longitude": 106.6980, "ward_code": "26743", "address": "Hẻm 12"}}


def key() -> str:
    return str(uuid.uuid4())


def png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="PNG")
    return out.getvalue()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def who(system) -> dict[str, dict[str, str]]:  # noqa: ANN001
    return {"citizen": await system.token(CITIZEN), "operator": await system.token(OPERATOR),
            "agency_admin": await system.token(AGENCY_ADMIN)}


async def assigned_report(system, citizen: dict) -> str:  # noqa: ANN001
    """A citizen's report routed to ubnd_26743 (illegal dumping needs a photo)."""
    r = await system.http.post("/api/v1/reports", json=await with_photo(system, citizen, DUMPING), headers=citizen)
    assert r.status_code == 201, r.text
    rid = r.json()["id"]

    async def assigned():
        return (await system.http.get(f"/api/v1/reports/{rid}")).json()["status"] == "assigned"

    await poll(assigned)
    return rid


async def replayed(system, path: str, headers: dict, idem: str, **body) -> tuple[httpx.Response, httpx.Response]:  # noqa: ANN001
    """The first answer and the answer to the same request sent again with the same key."""
    send = {**headers, "Idempotency-Key": idem, **body.pop("headers", {})}
    first = await system.http.post(path, headers=send, **body)
    assert first.status_code in (200, 201), first.text
    again = await system.http.post(path, headers=send, **body)
    assert again.status_code == first.status_code, again.text
    assert again.json() == first.json()
    return first, again


def reused(r: httpx.Response) -> bool:
    return (r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
            and r.json()["code"] == "idempotency_key_reused")


async def test_comment(system, who):
    rid = await assigned_report(system, who["citizen"])
    idem, path = key(), f"/api/v1/reports/{rid}/comments"
    first, _ = await replayed(system, path, who["citizen"], idem, json={"body": "Vẫn còn xà bần sáng nay."})
    assert first.status_code == 201
    comments = (await system.http.get(path, headers=who["citizen"])).json()["items"]
    assert [c["id"] for c in comments] == [first.json()["id"]]
    assert reused(await system.http.post(path, json={"body": "Một bình luận khác."},
                                         headers={**who["citizen"], "Idempotency-Key": idem}))
    assert len((await system.http.get(path)).json()["items"]) == 1
    # without a key a retry is a second comment, as before
    for _ in range(2):
        assert (await system.http.post(path, json={"body": "Không khóa."}, headers=who["citizen"])).status_code == 201
    assert len((await system.http.get(path)).json()["items"]) == 3


async def test_media_upload(system, who):
    async def media_rows() -> int:
        engine = create_async_engine(system.sup.cfg.database_urls["reports"])
        try:
            async with engine.connect() as conn:
                return await conn.scalar(select(func.count()).select_from(text("media")))
        finally:
            await engine.dispose()

    before, idem = await media_rows(), key()
    headers = {**who["citizen"], "Content-Type": "image/png"}
    first, _ = await replayed(system, "/api/v1/media", headers, idem, content=png((200, 30, 30)))
    assert first.status_code == 201 and await media_rows() == before + 1
    assert (await system.http.get(first.json()["url"], headers=who["citizen"])).status_code == 200
    assert reused(await system.http.post("/api/v1/media", content=png((30, 200, 30)),
                                         headers={**headers, "Idempotency-Key": idem}))
    assert await media_rows() == before + 1


async def test_staff_account(system, who):
    idem = key()
    body = {"phone": "0912000411", "full_name": "Lê Văn Tâm", "role": "officer", "agency_code": "ubnd_26743"}
    first, _ = await replayed(system, "/api/v1/staff", who["operator"], idem, json=body)
    assert first.status_code == 201
    staff = (await system.http.get("/api/v1/staff", params={"agency_code": "ubnd_26743", "limit": 200},
                                   headers=who["operator"])).json()["items"]
    assert [u["id"] for u in staff if u["phone"] == "+84912000411"] == [first.json()["id"]]
    assert reused(await system.http.post("/api/v1/staff", json={**body, "full_name": "Lê Văn Tú"},
                                         headers={**who["operator"], "Idempotency-Key": idem}))
    taken = await system.http.post("/api/v1/staff", json=body, headers=who["operator"])  # no key: a second try
    assert (taken.status_code, taken.json()["code"]) == (409, "phone_taken")


async def test_integration_client(system, who):
    idem, name = key(), f"Hệ thống thử {uuid.uuid4().hex[:6]}"
    body = {"name": name, "scopes": ["reports:read"], "agency_code": "ubnd_26743"}
    first, again = await replayed(system, "/api/v1/clients", who["agency_admin"], idem, json=body)
    assert first.status_code == 201 and again.json()["client_secret"] == first.json()["client_secret"]
    listed = (await system.http.get("/api/v1/clients", headers=who["agency_admin"])).json()["items"]
    assert [c["id"] for c in listed if c["name"] == name] == [first.json()["client"]["id"]]
    assert reused(await system.http.post("/api/v1/clients", json={**body, "scopes": ["reports:write"]},
                                         headers={**who["agency_admin"], "Idempotency-Key": idem}))


async def test_agency(system, who):
    idem, code = key(), f"idem_{uuid.uuid4().hex[:8]}"
    body = {"code": code, "name": {"vi": "Ban thử", "en": "Probe board"}, "kind": "department",
            "parent_code": "ioc", "active": False}
    first, again = await replayed(system, "/api/v1/agencies", who["operator"], idem, json=body)
    assert first.status_code == 201 and again.headers["location"] == f"/api/v1/agencies/{code}"
    listed = (await system.http.get("/api/v1/agencies", params={"kind": "department", "include_inactive": "true",
                                                                "limit": 200}, headers=who["operator"])).json()
    assert [a["code"] for a in listed["items"]].count(code) == 1
    assert reused(await system.http.post("/api/v1/agencies", json={**body, "contact": "028 0000"},
                                         headers={**who["operator"], "Idempotency-Key": idem}))
    exists = await system.http.post("/api/v1/agencies", json=body, headers=who["operator"])
    assert (exists.status_code, exists.json()["code"]) == (409, "agency_exists")


async def test_transfer(system, who):
    rid = await assigned_report(system, who["citizen"])
    idem, path = key(), f"/api/v1/reports/{rid}/transfer"
    body = {"to_agency_code": "ctmt", "reason": "Thu gom xà bần thuộc Công ty Môi trường đô thị"}
    first, _ = await replayed(system, path, who["operator"], idem, json=body)
    assert first.status_code == 200 and first.json()["transfer_count"] == 1
    assignment = (await system.http.get(f"/api/v1/reports/{rid}/assignment", headers=who["operator"])).json()
    assert len(assignment["transfers"]) == 1 and assignment["agency"]["code"] == "ctmt"
    assert reused(await system.http.post(path, json={**body, "to_agency_code": "thoatnuoc"},
                                         headers={**who["operator"], "Idempotency-Key": idem}))
    assert len((await system.http.get(f"/api/v1/reports/{rid}/assignment", headers=who["operator"])
                ).json()["transfers"]) == 1


async def test_webhook_and_keys_belong_to_their_caller(system, who):
    idem = key()
    body = {"url": "https://hooks.example.org/congdanso", "event_types": ["reports.v1.report_merged"]}
    first, again = await replayed(system, "/api/v1/webhooks", who["agency_admin"], idem, json=body)
    assert first.status_code == 201 and again.json()["secret"] == first.json()["secret"]
    listed = (await system.http.get("/api/v1/webhooks", headers=who["agency_admin"])).json()["items"]
    assert [w["id"] for w in listed] == [first.json()["id"]]
    assert reused(await system.http.post("/api/v1/webhooks", json={**body, "url": "https://hooks.example.org/b"},
                                         headers={**who["agency_admin"], "Idempotency-Key": idem}))
    # the same key from someone else is their own, independent key
    other = await system.http.post("/api/v1/webhooks", json=body, headers={**who["operator"], "Idempotency-Key": idem})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


async def test_deterministic_errors_are_replayed_too(system, who):
    idem = key()
    body = {"phone": "not-a-phone", "full_name": "Thử", "role": "officer", "agency_code": "ubnd_26743"}
    headers = {**who["operator"], "Idempotency-Key": idem}
    first = await system.http.post("/api/v1/staff", json=body, headers=headers)
    again = await system.http.post("/api/v1/staff", json=body, headers=headers)
    assert first.status_code == again.status_code == 400
    assert again.json()["code"] == first.json()["code"] and again.json()["detail"] == first.json()["detail"]


async def test_open311_requests_honour_the_key(system, who):
    created = await system.http.post("/api/v1/clients", headers=who["agency_admin"], json={
        "name": "Một cửa (idempotency)", "scopes": ["open311:submit"], "agency_code": "ubnd_26743"})
    assert created.status_code == 201, created.text
    form = {"api_key": created.json()["api_key"], "service_code": "illegal_dumping", "lat": "10.7725",
            "long": "106.698", "ward_code": "26743", "description": "Xà bần đổ trộm trước số 12"}
    headers = {"Idempotency-Key": key()}
    first = await system.http.post("/open311/v2/requests.json", data=form, headers=headers)
    again = await system.http.post("/open311/v2/requests.json", data=form, headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]
    other = await system.http.post("/open311/v2/requests.json", data={**form, "description": "Khác"}, headers=headers)
    assert other.status_code == 400  # Open311 has no 409: a reused key is a 400 in its errors format

"""Photos over HTTP: upload cleans them (EXIF/GPS gone), reports carry them, visibility is the report's,
and residents must attach one in photo_required categories."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.e2e.conftest import OFFICER

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
SPOT = {"latitude": 10.7725, "longitude": 106.6980, "ward_code": "26743", "address": "Lê Thánh Tôn"}


def photo(size=(3000, 2000)) -> bytes:  # noqa: ANN001
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (10.0, 46.0, 30.0), 3: "E", 4: (106.0, 42.0, 0.0)}
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 80, 40)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


async def upload(system, headers, data: bytes, content_type: str = "image/jpeg"):  # noqa: ANN001, ANN201
    return await system.http.post("/api/v1/media", content=data, headers={**headers, "Content-Type": content_type})


async def test_photo_upload_strips_gps_and_attaches_to_report(system):
    citizen = await system.token()
    r = await upload(system, citizen, photo())
    assert r.status_code == 201, r.text
    media = r.json()
    assert (media["width"], media["height"]) == (2048, 1365) and media["content_type"] == "image/jpeg"
    report = await system.http.post("/api/v1/reports", headers=citizen, json={
        "kind": "incident", "category_code": "illegal_dumping", "description": "Bãi rác tự phát, xem ảnh đính kèm",
        "location": SPOT, "media_ids": [media["id"]]})
    assert report.status_code == 201, report.text
    assert [m["id"] for m in report.json()["media"]] == [media["id"]]
    # The creation answer is built from what was written; it must equal what a read shows.
    read = await system.http.get(f"/api/v1/reports/{report.json()['id']}", headers=citizen)
    assert read.json() == report.json()
    anon = await system.http.get(media["url"])  # public report: anyone may see its photo
    assert anon.status_code == 200 and anon.headers["content-type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(anon.content))
    assert not stored.getexif() and stored.size == (2048, 1365)
    thumb = Image.open(io.BytesIO((await system.http.get(media["thumbnail_url"])).content))
    assert max(thumb.size) == 320
    again = await system.http.post("/api/v1/reports", headers=citizen, json={
        "kind": "incident", "category_code": "illegal_dumping", "description": "Dùng lại ảnh cũ cho báo cáo khác",
        "location": SPOT, "media_ids": [media["id"]]})
    assert again.status_code == 400 and again.json()["code"] == "invalid_media"


async def test_resident_needs_a_photo_in_a_photo_required_category(system):
    citizen = await system.token()
    assert (await system.http.get("/api/v1/categories/illegal_dumping")).json()["photo_required"] is True
    body = {"kind": "incident", "category_code": "illegal_dumping", "location": SPOT,
            "description": "Xà bần đổ ra lề đường, chưa kịp chụp ảnh"}
    for lang, title in (("vi", "Cần ảnh chụp"), ("en", "Photo required")):
        for no_photo in (body, {**body, "media_ids": []}):
            r = await system.http.post("/api/v1/reports", headers={**citizen, "Accept-Language": lang}, json=no_photo)
            assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
            assert (r.json()["code"], r.json()["field"], r.json()["title"]) == ("photo_required", "media_ids", title)
    media = (await upload(system, citizen, photo((800, 600)))).json()
    r = await system.http.post("/api/v1/reports", headers=citizen, json={**body, "media_ids": [media["id"]]})
    assert r.status_code == 201, r.text
    assert [m["id"] for m in r.json()["media"]] == [media["id"]]


async def test_non_images_and_oversized_uploads_are_refused(system):
    citizen = await system.token()
    r = await upload(system, citizen, b"%PDF-1.7 this is a contract renamed to photo.jpg")
    assert r.status_code == 400 and r.json()["code"] == "invalid_image"
    r = await upload(system, citizen, b"\xff\xd8" + b"0" * (11 * 1024 * 1024))
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert (await system.http.post("/api/v1/media", content=photo((10, 10)))).status_code == 401


async def test_unused_and_private_photos_are_only_for_those_allowed(system):
    citizen, officer = await system.token(), await system.token(OFFICER)
    media = (await upload(system, citizen, photo((400, 300)))).json()
    assert (await system.http.get(media["url"])).status_code == 404            # not attached: uploader only
    assert (await system.http.get(media["url"], headers=citizen)).status_code == 200
    r = await system.http.post("/api/v1/reports", headers=citizen, json={
        "kind": "feedback", "category_code": "feedback_service_quality", "visibility": "private",
        "description": "Góp ý riêng kèm ảnh biên nhận", "media_ids": [media["id"]]})
    assert r.status_code == 201, r.text
    assert (await system.http.get(media["url"])).status_code == 404            # private report
    assert (await system.http.get(media["url"], headers=officer)).status_code == 404  # another agency's staff
    many = [(await upload(system, citizen, photo((50, 50)))).json()["id"] for _ in range(6)]
    r = await system.http.post("/api/v1/reports", headers=citizen, json={
        "kind": "incident", "category_code": "illegal_dumping", "description": "Sáu ảnh thì quá nhiều rồi",
        "location": SPOT, "media_ids": many})
    assert r.status_code == 400

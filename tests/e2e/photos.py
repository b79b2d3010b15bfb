"""A photo for the reports e2e tests: categories with photo_required (illegal_dumping ...) refuse a
resident's report without one."""

from __future__ import annotations

import io

from PIL import Image


def small_jpeg() -> bytes:
    """A tiny valid JPEG (cheap for the service to clean)."""
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (110, 90, 60)).save(out, format="JPEG")
    return out.getvalue()


async def photo_id(system, headers: dict[str, str]) -> str:  # noqa: ANN001
    """Upload a photo as `headers`' account; the id to put in a report's media_ids."""
    r = await system.http.post("/api/v1/media", content=small_jpeg(), headers={**headers, "Content-Type": "image/jpeg"})
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def with_photo(system, headers: dict[str, str], body: dict) -> dict:  # noqa: ANN001
    """The report body with a freshly uploaded photo of the same account attached."""
    return {**body, "media_ids": [await photo_id(system, headers)]}

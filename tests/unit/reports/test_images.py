"""Photo cleaning with real images: GPS EXIF is stripped, non-images are refused, sizes bounded."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from services.reports.domain.images import MAX_SIDE, THUMB_SIDE, clean
from servicekit.errors import InvalidArgument


def jpeg_with_gps(size=(4000, 3000)) -> bytes:  # noqa: ANN001
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"     # Model
    gps = {1: "N", 2: (10.0, 46.0, 30.0), 3: "E", 4: (106.0, 42.0, 0.0)}
    exif[0x8825] = gps           # GPSInfo IFD
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def test_gps_and_device_exif_is_removed_and_size_bounded():
    raw = jpeg_with_gps()
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the upload does carry GPS
    out = clean(raw)
    stored = Image.open(io.BytesIO(out.content))
    assert stored.format == "JPEG" and out.content_type == "image/jpeg"
    assert not stored.getexif() and "exif" not in stored.info
    assert max(stored.size) == MAX_SIDE and (out.width, out.height) == stored.size == (2048, 1536)
    thumb = Image.open(io.BytesIO(out.thumbnail))
    assert max(thumb.size) == THUMB_SIDE and not thumb.getexif()


def test_png_with_transparency_becomes_webp_and_small_images_keep_their_size():
    buf = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 255, 128)).save(buf, format="PNG")
    out = clean(buf.getvalue())
    assert out.content_type == "image/webp" and (out.width, out.height) == (300, 200)
    assert Image.open(io.BytesIO(out.content)).format == "WEBP"


def test_orientation_is_applied_before_exif_is_dropped():
    img = Image.new("RGB", (400, 100), (0, 200, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° when displayed
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    out = clean(buf.getvalue())
    assert (out.width, out.height) == (100, 400)


@pytest.mark.parametrize("data", [
    b"%PDF-1.7 not a photo at all, renamed to photo.jpg",
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00"
    b"\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    b"\xff\xd8\xff\xe0 truncated jpeg",
    b"",
])
def test_non_images_and_other_formats_are_refused(data):
    with pytest.raises(InvalidArgument) as err:
        clean(data)
    assert err.value.code == "invalid_image"


def test_over_ten_megabytes_is_refused():
    with pytest.raises(InvalidArgument) as err:
        clean(b"\xff\xd8" + b"0" * (10 * 1024 * 1024))
    assert err.value.code == "image_too_large"

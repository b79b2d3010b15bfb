"""Photo checks and clean-up without I/O: type by content, EXIF gone, bounded size, thumbnail."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from servicekit.errors import InvalidArgument

MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE, THUMB_SIDE = 2048, 320
ACCEPTED = {"JPEG", "PNG", "WEBP"}
Image.MAX_IMAGE_PIXELS = 60_000_000  # refuse decompression bombs (Pillow raises above 2x this)


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    thumbnail: bytes
    content_type: str
    width: int
    height: int


def _refuse(message: str, code: str = "invalid_image") -> InvalidArgument:
    return InvalidArgument(message, code=code, field="content")


def clean(data: bytes) -> CleanImage:
    """Re-encode an uploaded photo: only JPEG/PNG/WebP by content; metadata (EXIF GPS, device) dropped."""
    if not data:
        raise _refuse("empty upload")
    if len(data) > MAX_BYTES:
        raise _refuse("photos are at most 10 MB", code="image_too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)  # keep what the camera meant, then forget the EXIF
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError, ValueError) as exc:
        raise _refuse("not a JPEG, PNG or WebP image") from exc
    if kind not in ACCEPTED:
        raise _refuse("only JPEG, PNG and WebP photos are accepted")
    has_alpha = upright.mode in ("RGBA", "LA") or (upright.mode == "P" and "transparency" in upright.info)
    fmt, content_type = ("WEBP", "image/webp") if has_alpha else ("JPEG", "image/jpeg")
    pixels = _fresh(upright.convert("RGBA" if has_alpha else "RGB"))
    pixels.thumbnail((MAX_SIDE, MAX_SIDE))
    thumb = pixels.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return CleanImage(_encode(pixels, fmt), _encode(thumb, fmt), content_type, pixels.width, pixels.height)


def _fresh(img: Image.Image) -> Image.Image:
    """A copy holding only pixels: no EXIF, XMP, ICC or text chunks travel along."""
    out = Image.new(img.mode, img.size)
    out.paste(img)
    return out


def _encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, quality=85, optimize=True) if fmt == "JPEG" else img.save(buf, format=fmt, quality=85)
    return buf.getvalue()

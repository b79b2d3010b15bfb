"""Where photo bytes live. Contract: `put(key, data)`, `get(key) -> bytes`, `delete(key)`.

`get` of a key that is not there raises FileNotFoundError; `delete` of one does nothing.
FileMediaStore (default, `REPORTS_MEDIA_DIR`, var/media) is the embedded and single-node choice;
S3MediaStore (`REPORTS_MEDIA_STORE=s3`, `REPORTS_S3_*`) keeps them in a bucket of any S3-compatible
service (AWS S3, MinIO, Ceph RGW) for several replicas and production.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from services.reports.config import ReportsSettings

_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class MediaStore(Protocol):
    async def put(self, key: str, data: bytes) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def delete(self, key: str) -> None: ...


def _check_key(key: str) -> str:
    if not _KEY.match(key) or key.startswith("."):
        raise ValueError(f"bad media key {key!r}")
    return key


class FileMediaStore:
    """Files under one directory; keys are flat, checked names (no path tricks)."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        key = _check_key(key)
        return self.root / key[:2] / key

    async def put(self, key: str, data: bytes) -> None:
        """Write atomically (temp file + rename)."""
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        await asyncio.to_thread(write)

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)


class S3MediaStore:
    """Objects `<prefix>/<key>` in one bucket of an S3-compatible service; the bucket must exist.

    boto3 is synchronous: each call runs in a worker thread (asyncio.to_thread) on one shared client,
    which boto3 documents as thread-safe. Building the client reads no network, so it may happen at wiring.
    """

    def __init__(self, *, bucket: str, prefix: str = "", endpoint_url: str = "", region: str = "",
                 access_key_id: str = "", secret_access_key: str = "", addressing_style: str = "auto"):
        # Imported here: boto3 costs ~0.3 s of imports that file-store processes and tests need not pay.
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix = bucket, prefix.strip("/")
        config = Config(
            region_name=region or None, s3={"addressing_style": addressing_style},
            connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3},
            # botocore >= 1.36 adds CRC checksums to every upload by default; several S3-compatible
            # servers (older MinIO, Ceph RGW) refuse them, so send them only where S3 requires one.
            request_checksum_calculation="when_required", response_checksum_validation="when_required")
        self._client: Any = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url or None, aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None, config=config)

    def _object(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def put(self, key: str, data: bytes) -> None:
        """One PutObject (atomic on S3: readers see the old object or the whole new one)."""
        await asyncio.to_thread(self._client.put_object, Bucket=self.bucket, Key=self._object(key), Body=data)

    async def get(self, key: str) -> bytes:
        name = self._object(key)

        def read() -> bytes:
            try:
                reply = self._client.get_object(Bucket=self.bucket, Key=name)
            except self._client.exceptions.NoSuchKey as exc:
                raise FileNotFoundError(name) from exc
            with reply["Body"] as body:
                return body.read()
        return await asyncio.to_thread(read)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=self._object(key))


def build_media_store(settings: ReportsSettings) -> MediaStore:
    """The store the settings choose (`REPORTS_MEDIA_STORE`: file or s3)."""
    if settings.media_store == "s3":
        return S3MediaStore(
            bucket=settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region, access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key, addressing_style=settings.s3_addressing_style)
    return FileMediaStore(Path(settings.media_dir))

"""Photos in an S3-compatible store: moto's standalone S3 server over HTTP on 127.0.0.1 (no mocked
client), the store's three calls, and a resident's photo going through the reports service layer."""

from __future__ import annotations

import asyncio
import io
import uuid

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from PIL import Image

from services.reports.adapters.media_store import S3MediaStore, build_media_store
from services.reports.config import ReportsSettings
from services.reports.domain.errors import PhotoRequired
from services.reports.service_layer import handlers, media
from servicekit.auth import Principal

REGION, KEY_ID, SECRET = "ap-southeast-1", "testing-key-id", "testing-secret"
CITIZEN = Principal(user_id="u-1", role="citizen")
AGENCY_SYSTEM = Principal(user_id="client-1", role="client", agency_code="ubnd_26743",
                          scopes=frozenset({"reports:write"}))


@pytest.fixture(scope="module")
def s3_url():
    """moto's S3 server in a thread of this process, on a random port."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_url) -> str:
    """A fresh bucket per test (the store expects it to exist)."""
    name = f"cds-media-{uuid.uuid4().hex[:8]}"
    raw_client(s3_url).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def raw_client(s3_url: str):  # noqa: ANN201
    """A plain boto3 client, to look at the bucket behind the store's back."""
    return boto3.client("s3", endpoint_url=s3_url, region_name=REGION, aws_access_key_id=KEY_ID,
                        aws_secret_access_key=SECRET)


def store_for(s3_url: str, bucket: str, prefix: str = "") -> S3MediaStore:
    return S3MediaStore(bucket=bucket, prefix=prefix, endpoint_url=s3_url, region=REGION,
                        access_key_id=KEY_ID, secret_access_key=SECRET, addressing_style="path")


def jpeg_with_gps(size=(1200, 800)) -> bytes:  # noqa: ANN001
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[0x8825] = {1: "N", 2: (10.0, 46.0, 30.0), 3: "E", 4: (106.0, 42.0, 0.0)}
    buf = io.BytesIO()
    Image.new("RGB", size, (90, 120, 60)).save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


async def test_put_get_delete(s3_url, bucket):
    store = store_for(s3_url, bucket, prefix="media/")
    await store.put("0190abcd-1", b"first")
    await store.put("0190abcd-1", b"second")  # a put replaces the object
    assert await store.get("0190abcd-1") == b"second"
    # The bytes sit on the server under the prefix, private: an unsigned GET of the object is refused.
    assert raw_client(s3_url).get_object(Bucket=bucket, Key="media/0190abcd-1")["Body"].read() == b"second"
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{s3_url}/{bucket}/media/0190abcd-1")).status_code == 403
    await store.delete("0190abcd-1")
    with pytest.raises(FileNotFoundError):
        await store.get("0190abcd-1")
    await store.delete("0190abcd-1")  # deleting what is gone is fine
    for bad in ("../escape", ".hidden", "a/b", ""):
        with pytest.raises(ValueError):
            await store.put(bad, b"x")
    assert raw_client(s3_url).list_objects_v2(Bucket=bucket)["KeyCount"] == 0


async def test_concurrent_puts_share_one_client(s3_url, bucket):
    store = store_for(s3_url, bucket)
    await asyncio.gather(*(store.put(f"k{i}", bytes([i]) * 1000) for i in range(12)))
    got = await asyncio.gather(*(store.get(f"k{i}") for i in range(12)))
    assert got == [bytes([i]) * 1000 for i in range(12)]


def dumping(**extra) -> handlers.SubmitReport:  # noqa: ANN003
    """A report in illegal_dumping, a category whose seed says photo_required."""
    return handlers.SubmitReport(kind="incident", category_code="illegal_dumping",
                                 description="Đổ xà bần trái phép đầu hẻm 12", latitude=10.7725,
                                 longitude=106.6980, ward_code="26743", address="Hẻm 12 Lê Thánh Tôn", **extra)


async def test_resident_photo_goes_to_s3_without_exif_and_onto_the_report(s3_url, bucket, uow_factory, monkeypatch):
    for name, value in {"REPORTS_MEDIA_STORE": "s3", "REPORTS_S3_BUCKET": bucket, "REPORTS_S3_PREFIX": "hcmc",
                        "REPORTS_S3_ENDPOINT_URL": s3_url, "REPORTS_S3_REGION": REGION,
                        "REPORTS_S3_ACCESS_KEY_ID": KEY_ID, "REPORTS_S3_SECRET_ACCESS_KEY": SECRET}.items():
        monkeypatch.setenv(name, value)
    store = build_media_store(ReportsSettings())  # the wiring __main__ uses
    assert isinstance(store, S3MediaStore)

    async with uow_factory() as uow:
        with pytest.raises(PhotoRequired):
            await handlers.submit_report(dumping(), uow, CITIZEN)
    photo = await media.upload(jpeg_with_gps(), uow_factory, store, CITIZEN)
    async with uow_factory() as uow:
        report = await handlers.submit_report(dumping(media_ids=(photo.id,)), uow, CITIZEN)

    s3 = raw_client(s3_url)
    names = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert names == [f"hcmc/{photo.id}", f"hcmc/{photo.id}-thumb"]
    for name in names:
        stored = Image.open(io.BytesIO(s3.get_object(Bucket=bucket, Key=name)["Body"].read()))
        assert stored.format == "JPEG" and not stored.getexif() and "exif" not in stored.info, name
    async with uow_factory() as uow:
        attached = await media.of_report(uow.session, report.id)
        row, content = await media.read(photo.id, False, uow.session, store, None)  # public report: anyone
        _, thumb = await media.read(photo.id, True, uow.session, store, None)
    assert [m.id for m in attached] == [photo.id] and row.report_id == report.id
    assert Image.open(io.BytesIO(content)).size == (1200, 800) and max(Image.open(io.BytesIO(thumb)).size) == 320
    assert content == s3.get_object(Bucket=bucket, Key=f"hcmc/{photo.id}")["Body"].read()


async def test_agency_systems_file_without_photos(uow_factory):
    async with uow_factory() as uow:
        report = await handlers.submit_report(dumping(), uow, AGENCY_SYSTEM)
    assert report.category_code == "illegal_dumping"
    async with uow_factory() as uow:  # categories without photo_required stay open to residents
        flood = handlers.SubmitReport(kind="incident", category_code="flooding", description="Ngập sâu trước chợ",
                                      latitude=10.7725, longitude=106.6980, ward_code="26743")
        assert (await handlers.submit_report(flood, uow, CITIZEN)).status == "submitted"

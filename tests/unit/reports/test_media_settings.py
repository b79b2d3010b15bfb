"""Which photo store the reports settings choose, and what an S3 store needs."""

from __future__ import annotations

import os

import pytest

from services.reports.adapters.media_store import FileMediaStore, S3MediaStore, build_media_store
from services.reports.config import ReportsSettings

S3_ENV = {"REPORTS_MEDIA_STORE": "s3", "REPORTS_S3_BUCKET": "cds-media", "REPORTS_S3_REGION": "ap-southeast-1",
          "REPORTS_S3_ACCESS_KEY_ID": "AKIDEXAMPLE", "REPORTS_S3_SECRET_ACCESS_KEY": "s3cr3t-value"}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("REPORTS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CDS_VAR_DIR", str(tmp_path))


def test_file_store_under_var_by_default(tmp_path):
    settings = ReportsSettings()
    assert settings.media_store == "file" and settings.media_dir == str(tmp_path / "media")
    store = build_media_store(settings)
    assert isinstance(store, FileMediaStore) and store.root == tmp_path / "media"


def test_s3_store_from_settings_keeps_the_secret_out_of_repr(monkeypatch):
    for name, value in {**S3_ENV, "REPORTS_S3_PREFIX": "/photos/"}.items():
        monkeypatch.setenv(name, value)
    settings = ReportsSettings()
    assert "s3cr3t-value" not in repr(settings)
    assert settings.s3_addressing_style == "auto"  # AWS itself: virtual-hosted where possible
    store = build_media_store(settings)
    assert isinstance(store, S3MediaStore) and (store.bucket, store.prefix) == ("cds-media", "photos")
    assert store._client.meta.region_name == "ap-southeast-1"
    assert store._object("0190-thumb") == "photos/0190-thumb"
    with pytest.raises(ValueError, match="bad media key"):
        store._object("../etc/passwd")


def test_custom_endpoint_defaults_to_path_style_addressing(monkeypatch):
    for name, value in {**S3_ENV, "REPORTS_S3_ENDPOINT_URL": "http://minio:9000"}.items():
        monkeypatch.setenv(name, value)
    settings = ReportsSettings()
    assert settings.s3_addressing_style == "path"  # MinIO / Ceph seldom have wildcard DNS for buckets
    store = build_media_store(settings)
    assert store._client.meta.endpoint_url == "http://minio:9000"
    assert store._client.meta.config.s3["addressing_style"] == "path"
    monkeypatch.setenv("REPORTS_S3_ADDRESSING_STYLE", "virtual")
    assert ReportsSettings().s3_addressing_style == "virtual"


def test_s3_store_needs_a_bucket(monkeypatch):
    monkeypatch.setenv("REPORTS_MEDIA_STORE", "s3")
    with pytest.raises(ValueError, match="REPORTS_S3_BUCKET"):
        ReportsSettings()
    monkeypatch.setenv("REPORTS_MEDIA_STORE", "ftp")
    with pytest.raises(ValueError):
        ReportsSettings()

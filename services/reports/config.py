"""Reports settings (env prefix REPORTS_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from servicekit.settings import CommonSettings, sqlite_url


class ReportsSettings(CommonSettings):
    """Database, listen address and photo store of the reports service."""

    database_url: str = Field(default="", validation_alias="REPORTS_DATABASE_URL")
    grpc_listen: str = Field(default="", validation_alias="REPORTS_GRPC_LISTEN")
    media_dir: str = Field(default="", validation_alias="REPORTS_MEDIA_DIR")
    auto_close_interval_s: float = Field(default=60.0, validation_alias="REPORTS_AUTO_CLOSE_INTERVAL_S")
    # Photo store: "file" (REPORTS_MEDIA_DIR) or "s3" (any S3-compatible service: AWS S3, MinIO, Ceph RGW).
    media_store: Literal["file", "s3"] = Field(default="file", validation_alias="REPORTS_MEDIA_STORE")
    s3_bucket: str = Field(default="", validation_alias="REPORTS_S3_BUCKET")
    s3_prefix: str = Field(default="", validation_alias="REPORTS_S3_PREFIX")
    s3_endpoint_url: str = Field(default="", validation_alias="REPORTS_S3_ENDPOINT_URL")  # empty: AWS
    s3_region: str = Field(default="", validation_alias="REPORTS_S3_REGION")
    # Empty keys: boto3's own chain (AWS_* variables, shared config, instance or pod role).
    s3_access_key_id: str = Field(default="", validation_alias="REPORTS_S3_ACCESS_KEY_ID")
    s3_secret_access_key: str = Field(default="", validation_alias="REPORTS_S3_SECRET_ACCESS_KEY", repr=False)
    # Empty: "path" with an endpoint URL (MinIO/Ceph rarely have wildcard DNS), else "auto" (AWS).
    s3_addressing_style: Literal["", "auto", "path", "virtual"] = Field(
        default="", validation_alias="REPORTS_S3_ADDRESSING_STYLE")

    def model_post_init(self, _ctx) -> None:  # noqa: ANN001
        if not self.database_url:
            self.database_url = sqlite_url(self.var_dir, "reports")
        if not self.grpc_listen:
            self.grpc_listen = self.reports_grpc_addr
        if not self.media_dir:
            self.media_dir = str(self.var_dir / "media")
        if self.media_store == "s3" and not self.s3_bucket:
            raise ValueError("REPORTS_MEDIA_STORE=s3 needs REPORTS_S3_BUCKET")
        if not self.s3_addressing_style:
            self.s3_addressing_style = "path" if self.s3_endpoint_url else "auto"

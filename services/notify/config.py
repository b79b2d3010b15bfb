"""Notify settings (env prefix NOTIFY_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from servicekit.settings import CommonSettings, sqlite_url


class NotifySettings(CommonSettings):
    """Database, listen address and the development SMS outbox file."""

    database_url: str = Field(default="", validation_alias="NOTIFY_DATABASE_URL")
    grpc_listen: str = Field(default="", validation_alias="NOTIFY_GRPC_LISTEN")
    sms_outbox: Path | None = Field(default=None, validation_alias="CDS_SMS_OUTBOX")

    def model_post_init(self, _ctx) -> None:  # noqa: ANN001
        if not self.database_url:
            self.database_url = sqlite_url(self.var_dir, "notify")
        if not self.grpc_listen:
            self.grpc_listen = self.notify_grpc_addr
        if self.sms_outbox is None:
            self.sms_outbox = self.var_dir / "sms-outbox.jsonl"

"""Reports settings (env prefix REPORTS_)."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import CommonSettings, sqlite_url


class ReportsSettings(CommonSettings):
    """Database and listen address of the reports service."""

    database_url: str = Field(default="", validation_alias="REPORTS_DATABASE_URL")
    grpc_listen: str = Field(default="", validation_alias="REPORTS_GRPC_LISTEN")
    media_dir: str = Field(default="", validation_alias="REPORTS_MEDIA_DIR")
    auto_close_interval_s: float = Field(default=60.0, validation_alias="REPORTS_AUTO_CLOSE_INTERVAL_S")

    def model_post_init(self, _ctx) -> None:  # noqa: ANN001
        if not self.database_url:
            self.database_url = sqlite_url(self.var_dir, "reports")
        if not self.grpc_listen:
            self.grpc_listen = self.reports_grpc_addr
        if not self.media_dir:
            self.media_dir = str(self.var_dir / "media")

"""Routing settings (env prefix ROUTING_)."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import CommonSettings, sqlite_url


class RoutingSettings(CommonSettings):
    """Database, listen address and SLA scheduler tuning of the routing service."""

    database_url: str = Field(default="", validation_alias="ROUTING_DATABASE_URL")
    grpc_listen: str = Field(default="", validation_alias="ROUTING_GRPC_LISTEN")
    sla_poll_interval_s: float = Field(default=5.0, gt=0, validation_alias="ROUTING_SLA_POLL_INTERVAL_S")
    sla_batch: int = Field(default=100, ge=1, validation_alias="ROUTING_SLA_BATCH")

    def model_post_init(self, _ctx) -> None:  # noqa: ANN001
        if not self.database_url:
            self.database_url = sqlite_url(self.var_dir, "routing")
        if not self.grpc_listen:
            self.grpc_listen = self.routing_grpc_addr

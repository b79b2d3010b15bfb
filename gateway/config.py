"""Gateway settings, read from the environment once in __main__ and passed down."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from servicekit.settings import CommonSettings


class GatewaySettings(CommonSettings):
    """Where the gateway listens, its limits and which browser origins may call it."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    http_addr: str = Field(default="127.0.0.1:8080", validation_alias="GATEWAY_HTTP_ADDR")
    max_json_body: int = Field(default=64 * 1024, ge=0, validation_alias="GATEWAY_MAX_JSON_BODY")
    max_upload_body: int = Field(default=10 * 1024 * 1024 + 4096, validation_alias="GATEWAY_MAX_UPLOAD_BODY")
    grpc_deadline_s: float = Field(default=5.0, gt=0, validation_alias="GATEWAY_GRPC_DEADLINE_S")
    ready_timeout_s: float = Field(default=1.0, gt=0, validation_alias="GATEWAY_READY_TIMEOUT_S")
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="GATEWAY_CORS_ORIGINS")

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated list (the environment's form) as well as a list."""
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def host_port(self) -> tuple[str, int]:
        """`http_addr` split into host and port (host may be a bracketed IPv6 literal)."""
        host, _, port = self.http_addr.rpartition(":")
        return host.strip("[]") or "127.0.0.1", int(port)

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
    # Proxies (IPs or CIDRs) whose X-Forwarded-For / X-Forwarded-Proto are believed; none by default.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list,
                                                            validation_alias="GATEWAY_TRUSTED_PROXIES")
    # Rate limits ("N/second;M/minute": burst and sustained rate). The defaults are flood protection that
    # lets whole test suites (every call from 127.0.0.1) through; a deployment sets tighter ones, e.g.
    # GATEWAY_RATE_AUTH=5/second;30/minute. Guessing passwords is stopped by identity's lockouts anyway.
    rate_enabled: bool = Field(default=True, validation_alias="GATEWAY_RATE_ENABLED")
    rate_ip: str = Field(default="300/second;10000/minute", validation_alias="GATEWAY_RATE_IP")
    rate_account: str = Field(default="100/second;3000/minute", validation_alias="GATEWAY_RATE_ACCOUNT")
    rate_auth: str = Field(default="50/second;1000/minute", validation_alias="GATEWAY_RATE_AUTH")
    rate_storage_url: str = Field(default="memory://", validation_alias="GATEWAY_RATE_STORAGE_URL")
    open311_contact: str = Field(default="Trung tâm Điều hành Đô thị thông minh TP.HCM (IOC)",
                                 validation_alias="GATEWAY_OPEN311_CONTACT")
    open311_changeset: str = Field(default="2026-11-29T00:00:00+07:00", validation_alias="GATEWAY_OPEN311_CHANGESET")

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated list (the environment's form) as well as a list."""
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("rate_ip", "rate_account", "rate_auth")
    @classmethod
    def _check_limits(cls, value: str) -> str:
        """Refuse a limit string the limits library cannot parse at start-up, not on the first request."""
        from limits import parse_many
        parse_many(value)
        return value

    @property
    def host_port(self) -> tuple[str, int]:
        """`http_addr` split into host and port (host may be a bracketed IPv6 literal)."""
        host, _, port = self.http_addr.rpartition(":")
        return host.strip("[]") or "127.0.0.1", int(port)

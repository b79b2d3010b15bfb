"""Settings shared by every process; each service subclasses with its own env prefix."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Infrastructure settings every process reads from the environment (no prefix)."""

    model_config = SettingsConfigDict(extra="ignore")

    var_dir: Path = Field(default=Path("var"), validation_alias="CDS_VAR_DIR")
    nats_url: str = Field(default="nats://127.0.0.1:4333", validation_alias="NATS_URL")
    identity_grpc_addr: str = Field(default="127.0.0.1:50051", validation_alias="IDENTITY_GRPC_ADDR")
    reports_grpc_addr: str = Field(default="127.0.0.1:50052", validation_alias="REPORTS_GRPC_ADDR")
    routing_grpc_addr: str = Field(default="127.0.0.1:50053", validation_alias="ROUTING_GRPC_ADDR")
    notify_grpc_addr: str = Field(default="127.0.0.1:50054", validation_alias="NOTIFY_GRPC_ADDR")
    otlp_endpoint: str = Field(default="", validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    log_level: str = Field(default="INFO", validation_alias="CDS_LOG_LEVEL")
    jwt_issuer: str = Field(default="congdanso-identity", validation_alias="CDS_JWT_ISSUER")
    jwt_audience: str = Field(default="congdanso", validation_alias="CDS_JWT_AUDIENCE")
    internal_token: str = Field(default="", validation_alias="CDS_INTERNAL_TOKEN", repr=False)
    shutdown_grace: float = Field(default=5.0, validation_alias="CDS_SHUTDOWN_GRACE")


def sqlite_url(var_dir: Path, name: str) -> str:
    """The embedded default database URL of a service: one SQLite file under var/."""
    return f"sqlite+aiosqlite:///{(var_dir / f'{name}.db').resolve()}"

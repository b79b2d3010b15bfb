"""Identity settings (env prefix IDENTITY_)."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import CommonSettings, sqlite_url


class IdentitySettings(CommonSettings):
    """Database, listen address and token lifetimes of the identity service."""

    database_url: str = Field(default="", validation_alias="IDENTITY_DATABASE_URL")
    grpc_listen: str = Field(default="", validation_alias="IDENTITY_GRPC_LISTEN")
    access_ttl_s: int = Field(default=900, validation_alias="IDENTITY_ACCESS_TTL_S")
    refresh_ttl_s: int = Field(default=30 * 24 * 3600, validation_alias="IDENTITY_REFRESH_TTL_S")
    # A rotated-in signing key is published this long before it signs, so that no verifier meets a
    # token with a kid it cannot know yet: longer than servicekit's JWKS refetch interval (5 s) and
    # than the gateway's JWKS cache (60 s) plus the Cache-Control max-age it gives clients (300 s).
    key_publish_lead_s: float = Field(default=360.0, validation_alias="IDENTITY_KEY_PUBLISH_LEAD_S")
    # Demo accounts with published passwords: for `make run` and tests only; compose turns them off.
    demo_accounts: bool = Field(default=True, validation_alias="IDENTITY_DEMO_ACCOUNTS")

    def model_post_init(self, _ctx) -> None:  # noqa: ANN001
        if not self.database_url:
            self.database_url = sqlite_url(self.var_dir, "identity")
        if not self.grpc_listen:
            self.grpc_listen = self.identity_grpc_addr

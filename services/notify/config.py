"""Notify settings (env prefix NOTIFY_)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from servicekit.settings import CommonSettings, sqlite_url


class NotifySettings(CommonSettings):
    """Database, listen address, channel providers, retry policy and limits."""

    database_url: str = Field(default="", validation_alias="NOTIFY_DATABASE_URL")
    grpc_listen: str = Field(default="", validation_alias="NOTIFY_GRPC_LISTEN")
    sms_outbox: Path | None = Field(default=None, validation_alias="CDS_SMS_OUTBOX")
    sms_http_url: str = Field(default="", validation_alias="NOTIFY_SMS_HTTP_URL")
    sms_http_token: str = Field(default="", validation_alias="NOTIFY_SMS_HTTP_TOKEN", repr=False)
    sms_sender: str = Field(default="CONGDANSO", validation_alias="NOTIFY_SMS_SENDER")
    email_outbox: Path | None = Field(default=None, validation_alias="NOTIFY_EMAIL_OUTBOX")
    smtp_host: str = Field(default="", validation_alias="NOTIFY_SMTP_HOST")
    smtp_port: int = Field(default=587, validation_alias="NOTIFY_SMTP_PORT")
    smtp_username: str = Field(default="", validation_alias="NOTIFY_SMTP_USERNAME")
    smtp_password: str = Field(default="", validation_alias="NOTIFY_SMTP_PASSWORD", repr=False)
    smtp_starttls: bool = Field(default=False, validation_alias="NOTIFY_SMTP_STARTTLS")
    smtp_tls: bool = Field(default=False, validation_alias="NOTIFY_SMTP_TLS")
    email_from: str = Field(default="Cong dan so <no-reply@congdanso.local>", validation_alias="NOTIFY_EMAIL_FROM")
    max_attempts: int = Field(default=5, validation_alias="NOTIFY_MAX_ATTEMPTS")
    retry_base_seconds: float = Field(default=30.0, validation_alias="NOTIFY_RETRY_BASE_SECONDS")
    retry_cap_seconds: float = Field(default=3600.0, validation_alias="NOTIFY_RETRY_CAP_SECONDS")
    sender_poll_seconds: float = Field(default=1.0, validation_alias="NOTIFY_SENDER_POLL_SECONDS")
    email_per_minute: int = Field(default=600, validation_alias="NOTIFY_EMAIL_PER_MINUTE")
    email_per_day: int = Field(default=0, validation_alias="NOTIFY_EMAIL_PER_DAY")
    sms_per_minute: int = Field(default=120, validation_alias="NOTIFY_SMS_PER_MINUTE")
    sms_per_day: int = Field(default=0, validation_alias="NOTIFY_SMS_PER_DAY")
    breaker_threshold: int = Field(default=5, validation_alias="NOTIFY_BREAKER_THRESHOLD")
    breaker_cooldown_seconds: float = Field(default=60.0, validation_alias="NOTIFY_BREAKER_COOLDOWN_SECONDS")
    contacts_timeout_seconds: float = Field(default=3.0, validation_alias="NOTIFY_CONTACTS_TIMEOUT_SECONDS")
    fanout_chunk: int = Field(default=5000, validation_alias="NOTIFY_FANOUT_CHUNK")
    otp_per_hour: int = Field(default=10, validation_alias="NOTIFY_OTP_PER_HOUR")
    webhook_allow_private: bool = Field(default=False, validation_alias="NOTIFY_WEBHOOK_ALLOW_PRIVATE")
    webhook_timeout_seconds: float = Field(default=10.0, validation_alias="NOTIFY_WEBHOOK_TIMEOUT_SECONDS")
    webhook_max_attempts: int = Field(default=8, validation_alias="NOTIFY_WEBHOOK_MAX_ATTEMPTS")
    webhook_give_up_hours: float = Field(default=24.0, validation_alias="NOTIFY_WEBHOOK_GIVE_UP_HOURS")

    def model_post_init(self, _ctx) -> None:  # noqa: ANN001
        if not self.database_url:
            self.database_url = sqlite_url(self.var_dir, "notify")
        if not self.grpc_listen:
            self.grpc_listen = self.notify_grpc_addr
        if self.sms_outbox is None:
            self.sms_outbox = self.var_dir / "sms-outbox.jsonl"
        if self.email_outbox is None:
            self.email_outbox = self.var_dir / "email-outbox.jsonl"

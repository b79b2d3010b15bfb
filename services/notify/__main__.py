"""`python -m services.notify [serve [--setup]|setup|migrate|seed]` (servicekit.cli)."""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from datetime import timedelta
from pathlib import Path

from congdanso.notify.v1 import notify_pb2
from congdanso.notify.v1.notify_pb2_grpc import add_NotifyServiceServicer_to_server
from services.notify.adapters.contacts import ContactDirectory, EmptyContactDirectory, GrpcContactDirectory
from services.notify.adapters.email import EmailSender, FileEmailSender, SmtpEmailSender
from services.notify.adapters.orm import idempotency, inbox, outbox
from services.notify.adapters.push import FakePushSender
from services.notify.adapters.sms import FileSmsProvider, HttpSmsProvider, SmsProvider
from services.notify.adapters.wakeups import InboxWakeups
from services.notify.config import NotifySettings
from services.notify.entrypoints.servicer import NotifyServicer
from services.notify.domain.webhooks import EVENT_TYPES, WebhookPolicy
from services.notify.service_layer import announcements, handlers, templates, webhooks
from services.notify.service_layer.sender import ChannelLimits, Channels, DeliveryWorker, RetryPolicy
from services.notify.service_layer.unit_of_work import NotifyUnitOfWork
from servicekit import cli
from servicekit.auth import grpc_jwks_fetcher
from servicekit.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


def sms_provider(settings: NotifySettings) -> SmsProvider:
    """The generic HTTP gateway when NOTIFY_SMS_HTTP_URL is set, else the development file."""
    if settings.sms_http_url:
        return HttpSmsProvider(settings.sms_http_url, token=settings.sms_http_token, sender=settings.sms_sender)
    return FileSmsProvider(settings.sms_outbox)


def email_sender(settings: NotifySettings) -> EmailSender:
    """SMTP when NOTIFY_SMTP_HOST is set, else the development file var/email-outbox.jsonl."""
    if settings.smtp_host:
        return SmtpEmailSender(host=settings.smtp_host, port=settings.smtp_port, sender=settings.email_from,
                               username=settings.smtp_username, password=settings.smtp_password,
                               starttls=settings.smtp_starttls, use_tls=settings.smtp_tls)
    return FileEmailSender(settings.email_outbox)


def contact_directory(settings: NotifySettings) -> ContactDirectory:
    """identity's GetContacts; without an internal token identity would refuse every call, so nobody is known."""
    if not settings.internal_token:
        log.warning("CDS_INTERNAL_TOKEN is not set: no contact data, email/SMS deliveries fail as no_contact")
        return EmptyContactDirectory()
    return GrpcContactDirectory(settings.identity_grpc_addr, settings.internal_token,
                                timeout=settings.contacts_timeout_seconds)


def channel_limits(settings: NotifySettings) -> dict[str, ChannelLimits]:
    """Rates, daily caps and breaker settings per outside channel."""
    breaker = dict(breaker_threshold=settings.breaker_threshold,
                   breaker_cooldown=timedelta(seconds=settings.breaker_cooldown_seconds))
    return {"email": ChannelLimits(per_minute=settings.email_per_minute, per_day=settings.email_per_day, **breaker),
            "sms": ChannelLimits(per_minute=settings.sms_per_minute, per_day=settings.sms_per_day, **breaker),
            "push": ChannelLimits(**breaker)}


def fanout_loop(rt: ServiceRuntime, chunk: int, poll: float):  # noqa: ANN201
    """The background job finishing announcement fan-outs."""
    async def fanout() -> None:
        while True:
            try:
                await announcements.fan_out_pending(rt.uow, chunk=chunk)
            except Exception:  # noqa: BLE001 - keep the job alive; pending state is in the DB
                log.exception("announcement fan-out failed")
            await asyncio.sleep(poll)
    return fanout


async def serve(settings: NotifySettings) -> None:
    """Run the gRPC service, its consumers, the sender and the fan-out until SIGTERM."""
    wakeups = InboxWakeups()
    rt = ServiceRuntime("notify", settings, database_url=settings.database_url, listen=settings.grpc_listen,
                        outbox=outbox, inbox=inbox, uow_class=functools.partial(NotifyUnitOfWork, wake=wakeups.wake))
    server = rt.grpc_server(grpc_jwks_fetcher(settings.identity_grpc_addr))
    await rt.open()
    await wakeups.attach(rt.nc)
    async with rt.uow() as uow:
        await templates.ensure_defaults(uow)
    rt.consume("users", "IDENTITY", ["identity.v1.user_registered"], handlers.project_user)
    rt.consume("user-deleted", "IDENTITY", ["identity.v1.user_deleted"], handlers.erase_user)
    rt.consume("report-submitted", "REPORTS", ["reports.v1.report_submitted"], handlers.on_report_submitted,
               handlers.on_report_submitted_batch)
    rt.consume("report-status", "REPORTS", ["reports.v1.report_status_changed"], handlers.on_status_changed,
               handlers.on_status_changed_batch)
    rt.consume("report-activity", "REPORTS", ["reports.v1.report_followed", "reports.v1.report_commented",
                                              "reports.v1.report_merged"], handlers.on_report_activity)
    rt.consume("deadlines", "ROUTING", ["routing.v1.sla_warning", "routing.v1.report_escalated"],
               handlers.on_deadline)
    for purpose, stream in (("webhooks-reports", "REPORTS"), ("webhooks-routing", "ROUTING")):
        rt.consume(purpose, stream, [t for t in EVENT_TYPES if t.startswith(f"{stream.lower()}.")], webhooks.enqueue,
                   webhooks.enqueue_batch)
    sms = sms_provider(settings)
    contacts = contact_directory(settings)
    worker = DeliveryWorker(
        rt.uow, Channels(email=email_sender(settings), sms=sms, push=FakePushSender()), contacts,
        policy=RetryPolicy(max_attempts=settings.max_attempts, base_seconds=settings.retry_base_seconds,
                           cap_seconds=settings.retry_cap_seconds),
        idle_poll=settings.sender_poll_seconds, limits=channel_limits(settings))
    rt.background.append(worker.run)
    rt.background.append(fanout_loop(rt, settings.fanout_chunk, settings.sender_poll_seconds))
    hooks = webhooks.WebhookWorker(rt.uow, policy=WebhookPolicy(
        max_attempts=settings.webhook_max_attempts, timeout_seconds=settings.webhook_timeout_seconds,
        give_up_after=timedelta(hours=settings.webhook_give_up_hours)), idle_poll=settings.sender_poll_seconds)
    rt.background.append(hooks.run)
    server.add(add_NotifyServiceServicer_to_server,
               NotifyServicer(rt.uow, sms, otp_secret=settings.internal_token or "dev-otp-rate-key",
                              otp_per_hour=settings.otp_per_hour,
                              webhook_allow_private=settings.webhook_allow_private,
                              watch_poll=settings.sender_poll_seconds, wakeups=wakeups),
               notify_pb2.DESCRIPTOR.services_by_name["NotifyService"].full_name)
    server.enable_idempotency(rt.engine, idempotency, methods={"/congdanso.notify.v1.NotifyService/CreateWebhook"})
    try:
        await rt.serve(server)
    finally:
        if isinstance(contacts, GrpcContactDirectory):
            await contacts.close()


def main(argv: list[str]) -> None:
    """Dispatch the sub-command (servicekit.cli; templates are seeded at start-up, so seed is a no-op)."""
    cli.ServiceCli("notify", NotifySettings, serve, MIGRATIONS).main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])

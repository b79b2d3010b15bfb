"""One-time codes: sent straight to the SMS provider, never stored; the delivery log keeps only the
masked number and a keyed hash for the per-number rate limit."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from services.notify.adapters.orm import Delivery
from services.notify.adapters.sms import SmsProvider
from services.notify.domain.delivery import DELIVERED, SENDING, TECHNICAL, SendError, mask, mobile_e164, rate_key
from services.notify.domain.errors import OtpNotSent, OtpRateLimited
from services.notify.domain.templates import render_text
from services.notify.service_layer import templates
from services.notify.service_layer.notifying import Clock, utcnow
from servicekit.events import new_id

WINDOW = timedelta(hours=1)


async def send_otp(uow_factory, sms: SmsProvider, *, phone: str, code: str, language: str, secret: str,  # noqa: ANN001
                   per_hour: int = 5, clock: Clock = utcnow) -> str:
    """Send the code by SMS unless the number had `per_hour` codes in the last hour; the delivery id."""
    e164 = mobile_e164(phone)
    key, now = rate_key(e164, secret), clock()
    async with uow_factory() as uow:
        recent = await uow.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.rate_key == key, Delivery.created_at > now - WINDOW))
        if recent >= per_hour:
            raise OtpRateLimited("too many codes for this number; try again later")
        tpl = await templates.resolve(uow.session, "otp", "sms", language if language in ("vi", "en") else "vi")
        delivery_id = new_id()
        uow.session.add(Delivery(id=delivery_id, notification_id=delivery_id, user_id="", channel="sms",
                                 message_type="otp", status=SENDING, subject="", body="", attempts=1,
                                 template_version=tpl.version, not_before=now, destination=mask(e164), rate_key=key,
                                 created_at=now, updated_at=now))
        await uow.commit()
    _, text = render_text(tpl.subject, tpl.body, {"code": code})
    try:
        ref, status, reason = await sms.send(e164, text), DELIVERED, ""
    except SendError as exc:
        ref, status, reason = "", TECHNICAL, exc.reason
    async with uow_factory() as uow:
        await uow.session.execute(update(Delivery).where(Delivery.id == delivery_id, Delivery.status == SENDING)
                                  .values(status=status, provider_ref=ref[:120], reason=reason, updated_at=clock()))
        await uow.commit()
    if status != DELIVERED:
        raise OtpNotSent(reason)
    return delivery_id

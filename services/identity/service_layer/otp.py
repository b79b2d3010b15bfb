"""Issuing and checking SMS one-time codes (delivery through notify, never through events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from services.identity.adapters import keys
from services.identity.adapters.orm import OtpCode, User
from services.identity.adapters.sms import OtpSender
from services.identity.domain import model, otp
from services.identity.domain.errors import OtpCooldown, OtpInvalid
from services.identity.service_layer.users import aware, live_user_by_phone, now
from servicekit.events import new_id

SECRET = "otp"


def eligible(user: User | None, purpose: str) -> bool:
    """Whether a code for `purpose` is really sent to the holder of the number.

    Log-in and reset need a verified phone, or a staff account without a password yet (its first
    log-in verifies the phone); a pending sign-up can re-ask for its verification code.
    """
    if user is None or user.disabled_at is not None:
        return False
    if purpose == "verify_phone":
        return user.phone_verified_at is None and user.password_hash is not None
    return user.phone_verified_at is not None or user.password_hash is None


async def send_code(uow, sender: OtpSender, *, phone: str, purpose: str, user: User | None,  # noqa: ANN001
                    deliver: bool) -> int:
    """Store the HMAC of a fresh code, commit, then deliver it when `deliver`; the resend wait.

    Unknown numbers get a stored code too (never sent), so the cool-down behaves the same for them.
    """
    t = now()
    last = await uow.session.scalar(select(OtpCode.created_at).where(OtpCode.phone == phone)
                                    .order_by(OtpCode.created_at.desc()).limit(1))
    if wait := otp.resend_wait(aware(last), t):
        raise OtpCooldown(f"a code was sent recently; try again in {wait} s")
    code = otp.new_code()
    secret = await keys.server_secret(uow.session, SECRET)
    uow.session.add(OtpCode(id=new_id(), phone=phone, purpose=purpose, code_hash=otp.digest(secret, phone, purpose, code),
                            user_id=user.id if user else None, created_at=t, expires_at=t + otp.TTL, attempts=0))
    await uow.commit()
    if deliver and user is not None:
        await sender.send(phone=phone, code=code, language=user.language, purpose=purpose)
    return int(otp.RESEND_COOLDOWN.total_seconds())


async def request_code(uow, sender: OtpSender, *, phone: str, purpose: str) -> int:  # noqa: ANN001
    """RequestOtp: the same answer whether or not the number has an account."""
    e164 = model.normalise_phone(phone)
    otp.check_purpose(purpose)
    user = await live_user_by_phone(uow.session, e164)
    return await send_code(uow, sender, phone=e164, purpose=purpose, user=user, deliver=eligible(user, purpose))


async def consume(uow, *, phone: str, purpose: str, code: str, at: datetime | None = None) -> OtpCode:  # noqa: ANN001
    """Spend one try of the newest code of (phone, purpose); OtpInvalid unless it matches.

    Tries and use are counted with conditional UPDATEs, so concurrent guesses cannot exceed
    MAX_ATTEMPTS and a code is accepted at most once. The caller commits (also after a failure).
    """
    t = at or now()
    row = await uow.session.scalar(select(OtpCode).where(OtpCode.phone == phone, OtpCode.purpose == purpose)
                                   .order_by(OtpCode.created_at.desc(), OtpCode.id.desc()).limit(1))
    if row is None or not otp.usable(expires_at=aware(row.expires_at), attempts=row.attempts,
                                     consumed_at=row.consumed_at, now=t):
        raise OtpInvalid("the code is not valid")
    tried = await uow.session.execute(
        update(OtpCode).where(OtpCode.id == row.id, OtpCode.consumed_at.is_(None), OtpCode.attempts < otp.MAX_ATTEMPTS)
        .values(attempts=OtpCode.attempts + 1))
    secret = await keys.server_secret(uow.session, SECRET)
    if tried.rowcount != 1 or not otp.matches(secret, phone, purpose, code, row.code_hash):
        raise OtpInvalid("the code is not valid")
    used = await uow.session.execute(update(OtpCode).where(OtpCode.id == row.id, OtpCode.consumed_at.is_(None))
                                     .values(consumed_at=t))
    if used.rowcount != 1:
        raise OtpInvalid("the code is not valid")
    return row

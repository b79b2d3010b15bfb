"""Log-in (password or SMS code), tokens, refresh rotation with reuse detection, sessions."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from services.identity.adapters import keys
from services.identity.adapters.orm import RefreshToken, Session, User
from services.identity.domain import lockout, model
from services.identity.domain.errors import (InvalidCredentials, InvalidPhone, OtpInvalid, RefreshRejected,
                                             SessionNotFound)
from services.identity.service_layer import audit, otp, throttle
from services.identity.service_layer.users import aware, hash_password, live_user_by_phone, now, password_matches
from servicekit.events import new_id

THROTTLE_SECRET = "throttle"


@dataclass(frozen=True)
class TokenConfig:
    """Lifetimes and the issuer/audience written into access tokens."""

    access_ttl: int
    refresh_ttl: int
    issuer: str
    audience: str


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def hash_token(token: str) -> str:
    """Refresh tokens are 256-bit random values: a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode()).hexdigest()


async def _issue(uow, user: User, session: Session, cfg: TokenConfig) -> Tokens:  # noqa: ANN001
    """Sign an access token and store a new refresh token for the session."""
    t = now()
    key = await keys.current_key(uow.session)
    claims = {
        "iss": cfg.issuer, "aud": cfg.audience, "sub": user.id, "iat": int(t.timestamp()),
        "exp": int(t.timestamp()) + cfg.access_ttl, "jti": new_id(), "sid": session.id,
        "role": user.role, "agency": user.agency_code or None, "acr": user.assurance_level,
        "amr": [session.method],
    }
    refresh_token = secrets.token_urlsafe(32)
    uow.session.add(RefreshToken(token_hash=hash_token(refresh_token), session_id=session.id, created_at=t))
    return Tokens(keys.sign(key, claims), refresh_token, cfg.access_ttl)


async def open_session(uow, user: User, cfg: TokenConfig, *, method: str, client_ip: str) -> Tokens:  # noqa: ANN001
    """A new session with its first token pair, audited as a log-in (the caller commits)."""
    t = now()
    session = Session(id=new_id(), user_id=user.id, created_at=t, last_used_at=t, client_ip=client_ip or "",
                      method=method, expires_at=t + timedelta(seconds=cfg.refresh_ttl))
    uow.session.add(session)
    audit.record(uow.session, "login", actor_id=user.id, actor_role=user.role, subject_id=user.id,
                 client_ip=client_ip, method=method, session_id=session.id)
    return await _issue(uow, user, session, cfg)


async def throttle_keys_for(uow, phone: str | None, client_ip: str) -> list[str]:  # noqa: ANN001
    """The IP key, plus the phone's key when the number parses."""
    out = [throttle.ip_key(client_ip)]
    if phone:
        out.append(throttle.account_key(await keys.server_secret(uow.session, THROTTLE_SECRET), phone))
    return out


async def _locked(uow, throttle_keys: list[str]) -> bool:  # noqa: ANN001
    """Whether any of the keys is locked now."""
    t = now()
    return any([await throttle.is_locked(uow.session, k, t) for k in throttle_keys])


async def _failed(uow, throttle_keys: list[str], user: User | None, client_ip: str, *, method: str,  # noqa: ANN001
                  blocked: bool) -> None:
    """Count the failure (not while locked), audit it and any lock it starts, and commit."""
    t = now()
    subject = user.id if user else ""
    audit.record(uow.session, "login_failed", subject_id=subject, client_ip=client_ip, method=method, blocked=blocked)
    if not blocked:
        for key in throttle_keys:
            policy = lockout.IP if key.startswith("ip:") else lockout.ACCOUNT
            if await throttle.fail(uow.session, key, policy, t):
                audit.record(uow.session, "lockout", subject_id=subject if key.startswith("acct:") else "",
                             client_ip=client_ip, scope=key.split(":", 1)[0])
    await uow.commit()


def _phone_or_none(raw: str) -> str | None:
    """E.164, or None for anything that is not a Vietnamese mobile (answered like a wrong password)."""
    try:
        return model.normalise_phone(raw)
    except InvalidPhone:
        return None


@dataclass(frozen=True)
class Checked:
    """A password checked before the log-in's transaction: against which stored hash, and the verdict."""

    stored: str | None
    ok: bool


async def stored_password_hash(session, phone: str) -> str | None:  # noqa: ANN001
    """The password hash of the live account holding `phone` (None: no such account)."""
    e164 = _phone_or_none(phone)
    user = await live_user_by_phone(session, e164) if e164 else None
    return user.password_hash if user else None


async def check_password(stored: str | None, password: str) -> Checked:
    """The argon2 work of a log-in, to run outside any transaction (read `stored` with a read-only unit
    of work first): tens of milliseconds that inside the log-in's writing transaction held the
    process's SQLite write turn, so every log-in, sign-up and refresh waited for the others' hashing."""
    return Checked(stored, await password_matches(stored, password))


async def login(uow, cfg: TokenConfig, *, phone: str, password: str, client_ip: str,  # noqa: ANN001
                checked: Checked | None = None) -> Tokens:
    """Password log-in. Wrong password, unknown number, unverified or disabled account and a lock
    all give the same error after the same argon2 work. `checked`: `check_password`'s verdict, used
    when the stored hash is still the one it checked (else the password is verified again here)."""
    e164 = _phone_or_none(phone)
    throttle_keys = await throttle_keys_for(uow, e164, client_ip)
    blocked = await _locked(uow, throttle_keys)
    user = await live_user_by_phone(uow.session, e164) if e164 else None
    stored = user.password_hash if user else None
    if checked is not None and checked.stored == stored:
        ok = checked.ok
    else:
        ok = await password_matches(stored, password)
    if blocked or not ok or user is None or user.phone_verified_at is None or user.disabled_at is not None:
        await _failed(uow, throttle_keys, user, client_ip, method="password", blocked=blocked)
        raise InvalidCredentials("phone number or password is wrong")
    await throttle.clear(uow.session, throttle_keys[-1])
    tokens = await open_session(uow, user, cfg, method="password", client_ip=client_ip)
    await uow.commit()
    return tokens


async def user_for_code(uow, *, phone: str, purpose: str, code: str, client_ip: str,  # noqa: ANN001
                         throttle_keys: list[str]) -> User:
    """Spend the code; the account it was sent to (still eligible), or OtpInvalid after counting."""
    blocked = await _locked(uow, throttle_keys)
    user = await live_user_by_phone(uow.session, phone)
    try:
        if blocked:
            raise OtpInvalid("the code is not valid")
        row = await otp.consume(uow, phone=phone, purpose=purpose, code=code)
        if user is None or row.user_id != user.id or not otp.eligible(user, purpose):
            raise OtpInvalid("the code is not valid")
    except OtpInvalid:
        await _failed(uow, throttle_keys, user, client_ip, method=f"otp_{purpose}", blocked=blocked)
        raise
    return user


async def login_with_code(uow, cfg: TokenConfig, *, phone: str, code: str, client_ip: str) -> Tokens:  # noqa: ANN001
    """SMS-code log-in; a first log-in of a staff account verifies its phone."""
    e164 = _phone_or_none(phone)
    if e164 is None:
        raise OtpInvalid("the code is not valid")
    throttle_keys = await throttle_keys_for(uow, e164, client_ip)
    user = await user_for_code(uow, phone=e164, purpose="login", code=code, client_ip=client_ip,
                                throttle_keys=throttle_keys)
    if user.phone_verified_at is None:
        user.phone_verified_at, user.assurance_level = now(), max(user.assurance_level, 1)
    await throttle.clear(uow.session, throttle_keys[-1])
    tokens = await open_session(uow, user, cfg, method="otp", client_ip=client_ip)
    await uow.commit()
    return tokens


async def reset_password(uow, *, phone: str, code: str, new_password: str, client_ip: str) -> None:  # noqa: ANN001
    """Set a new password with a reset code; every session of the account ends."""
    model.check_password(new_password)
    e164 = _phone_or_none(phone)
    if e164 is None:
        raise OtpInvalid("the code is not valid")
    throttle_keys = await throttle_keys_for(uow, e164, client_ip)
    user = await user_for_code(uow, phone=e164, purpose="reset_password", code=code, client_ip=client_ip,
                                throttle_keys=throttle_keys)
    user.password_hash = await hash_password(new_password)
    if user.phone_verified_at is None:
        user.phone_verified_at, user.assurance_level = now(), max(user.assurance_level, 1)
    revoked = await revoke_all(uow, user.id)
    await throttle.clear(uow.session, throttle_keys[-1])
    audit.record(uow.session, "password_reset", actor_id=user.id, actor_role=user.role, subject_id=user.id,
                 client_ip=client_ip, sessions_revoked=revoked)
    await uow.commit()


async def refresh(uow, cfg: TokenConfig, *, token: str, client_ip: str = "") -> Tokens:  # noqa: ANN001
    """Rotate a refresh token; a reused (spent) one revokes the whole session and is audited."""
    row = await uow.session.get(RefreshToken, hash_token(token or ""))
    if row is None:
        raise RefreshRejected("refresh token not accepted")
    session = await uow.session.get(Session, row.session_id)
    t = now()
    if row.used_at is not None:
        if session.revoked_at is None:
            session.revoked_at = t
        audit.record(uow.session, "refresh_reuse", subject_id=session.user_id, client_ip=client_ip,
                     session_id=session.id)
        await uow.commit()
        raise RefreshRejected("refresh token reused; the session is revoked")
    if session.revoked_at is not None or aware(session.expires_at) < t:
        raise RefreshRejected("session ended")
    user = await uow.session.get(User, session.user_id)
    if user is None or user.deleted_at is not None or user.disabled_at is not None:
        raise RefreshRejected("account closed")
    spent = await uow.session.execute(update(RefreshToken).where(RefreshToken.token_hash == row.token_hash,
                                                                 RefreshToken.used_at.is_(None)).values(used_at=t))
    if spent.rowcount != 1:  # a concurrent refresh won: treat as reuse
        raise RefreshRejected("refresh token not accepted")
    session.last_used_at = t
    if client_ip:
        session.client_ip = client_ip
    tokens = await _issue(uow, user, session, cfg)
    await uow.commit()
    return tokens


async def list_sessions(session_db, user_id: str) -> list[Session]:  # noqa: ANN001
    """Active sessions of a user, newest first."""
    q = (select(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None),
                               Session.expires_at > now()).order_by(Session.created_at.desc()))
    return list((await session_db.scalars(q)).all())


async def revoke(uow, user_id: str, session_id: str) -> None:  # noqa: ANN001
    """End one of the user's sessions (others' sessions look like unknown ones)."""
    session = await uow.session.get(Session, session_id)
    if session is None or session.user_id != user_id:
        raise SessionNotFound("no such session")
    if session.revoked_at is None:
        session.revoked_at = now()
        audit.record(uow.session, "session_revoked", actor_id=user_id, subject_id=user_id, session_id=session_id)
    await uow.commit()


async def revoke_all(uow, user_id: str, *, keep: str = "") -> int:  # noqa: ANN001
    """Revoke every live session of the user except `keep`; how many (the caller commits)."""
    q = update(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
    if keep:
        q = q.where(Session.id != keep)
    result = await uow.session.execute(q.values(revoked_at=now()))
    return result.rowcount or 0

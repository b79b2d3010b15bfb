"""Identity commands: register, log in, refresh, log out."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import select

from congdanso.identity.v1 import events_pb2
from services.identity.adapters import keys
from services.identity.adapters.orm import RefreshToken, Session, User
from services.identity.domain import model
from services.identity.domain.errors import InvalidCredentials, PhoneTaken, RefreshRejected
from servicekit.events import new_id

hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
_DUMMY_HASH = hasher.hash("timing-equaliser-not-a-password")


@dataclass(frozen=True)
class Register:
    phone: str
    password: str
    full_name: str
    language: str = "vi"
    home_ward_code: str = ""
    role: str = "citizen"
    agency_code: str = ""


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def register(cmd: Register, uow) -> User:  # noqa: ANN001
    """Create an account (password checked, phone normalised) and emit user_registered."""
    phone = model.normalise_phone(cmd.phone)
    model.check_password(cmd.password)
    user = User(
        id=new_id(), phone=phone, full_name=model.clean_name(cmd.full_name),
        password_hash=hasher.hash(cmd.password), language=model.check_language(cmd.language),
        home_ward_code=cmd.home_ward_code or "", role=cmd.role, agency_code=cmd.agency_code,
        assurance_level=0, created_at=datetime.now(UTC),
    )
    if await uow.session.scalar(select(User.id).where(User.phone == phone)):
        raise PhoneTaken("an account with this phone number exists")
    uow.session.add(user)
    uow.emit(events_pb2.UserRegistered(user_id=user.id, role=user.role, agency_code=user.agency_code,
                                       language=user.language, home_ward_code=user.home_ward_code))
    await uow.commit()
    return user


async def login(phone: str, password: str, uow, *, access_ttl: int, refresh_ttl: int,  # noqa: ANN001
                issuer: str, audience: str) -> Tokens:
    """Check the password (constant work whether or not the account exists) and open a session."""
    try:
        e164 = model.normalise_phone(phone)
    except Exception as exc:  # noqa: BLE001 - same generic answer as a wrong password
        raise InvalidCredentials("phone number or password is wrong") from exc
    user = await uow.session.scalar(select(User).where(User.phone == e164, User.deleted_at.is_(None)))
    try:
        hasher.verify(user.password_hash if user and user.password_hash else _DUMMY_HASH, password or "")
    except VerificationError as exc:
        raise InvalidCredentials("phone number or password is wrong") from exc
    if user is None or not user.password_hash:
        raise InvalidCredentials("phone number or password is wrong")
    now = datetime.now(UTC)
    session = Session(id=new_id(), user_id=user.id, created_at=now, expires_at=now + timedelta(seconds=refresh_ttl))
    uow.session.add(session)
    tokens = await _issue(uow, user, session, access_ttl=access_ttl, issuer=issuer, audience=audience)
    await uow.commit()
    return tokens


async def refresh(token: str, uow, *, access_ttl: int, issuer: str, audience: str) -> Tokens:  # noqa: ANN001
    """Rotate a refresh token; a reused (spent) one revokes the whole session."""
    row = await uow.session.get(RefreshToken, _hash_token(token or ""))
    if row is None:
        raise RefreshRejected("refresh token not accepted")
    session = await uow.session.get(Session, row.session_id)
    now = datetime.now(UTC)
    if row.used_at is not None:
        session.revoked_at = session.revoked_at or now
        await uow.commit()
        raise RefreshRejected("refresh token reused; the session is revoked")
    if session.revoked_at is not None or session.expires_at.replace(tzinfo=UTC) < now:
        raise RefreshRejected("session ended")
    user = await uow.session.get(User, session.user_id)
    if user is None or user.deleted_at is not None:
        raise RefreshRejected("account closed")
    row.used_at = now
    tokens = await _issue(uow, user, session, access_ttl=access_ttl, issuer=issuer, audience=audience)
    await uow.commit()
    return tokens


async def logout(session_id: str, uow) -> None:  # noqa: ANN001
    """Revoke the caller's session."""
    session = await uow.session.get(Session, session_id)
    if session is not None and session.revoked_at is None:
        session.revoked_at = datetime.now(UTC)
        await uow.commit()


async def _issue(uow, user: User, session: Session, *, access_ttl: int, issuer: str, audience: str) -> Tokens:  # noqa: ANN001
    """Sign an access token and store a new refresh token for the session."""
    now = datetime.now(UTC)
    key = await keys.current_key(uow.session)
    claims = {
        "iss": issuer, "aud": audience, "sub": user.id, "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + access_ttl, "jti": new_id(), "sid": session.id,
        "role": user.role, "agency": user.agency_code or None, "acr": user.assurance_level,
    }
    refresh_token = secrets.token_urlsafe(32)
    uow.session.add(RefreshToken(token_hash=_hash_token(refresh_token), session_id=session.id, created_at=now))
    return Tokens(keys.sign(key, claims), refresh_token, access_ttl)

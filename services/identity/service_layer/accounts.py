"""Residents' accounts: sign-up with phone verification, profile, data export, deletion."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from congdanso.identity.v1 import events_pb2
from services.identity.adapters.orm import OtpCode, Session, User
from services.identity.adapters.sms import OtpSender
from services.identity.domain import model
from services.identity.domain.errors import InvalidCredentials, InvalidPhone, OtpInvalid
from services.identity.service_layer import audit, otp, sessions
from services.identity.service_layer.users import caller, hash_password, live_user_by_phone, now, password_matches
from servicekit.auth import Principal
from servicekit.errors import PermissionDenied
from servicekit.events import new_id


@dataclass(frozen=True)
class Register:
    phone: str
    password: str
    full_name: str
    language: str = "vi"
    home_ward_code: str = ""
    role: str = "citizen"
    agency_code: str = ""


def _registered(uow, user: User) -> None:  # noqa: ANN001
    """Emit user_registered (no phone, no name)."""
    uow.emit(events_pb2.UserRegistered(user_id=user.id, role=user.role, agency_code=user.agency_code,
                                       language=user.language, home_ward_code=user.home_ward_code))


async def new_password_hash(cmd: Register) -> str:
    """The sign-up's checks, then its argon2 hash: for the caller to compute before `register`'s
    writing transaction (tens of milliseconds that would hold the process's SQLite write turn)."""
    _checked(cmd)
    return await hash_password(cmd.password)


def _checked(cmd: Register) -> tuple[str, str, str, str]:
    """(phone, name, language, ward) of a valid sign-up; the password's rules checked too."""
    phone = model.normalise_phone(cmd.phone)
    model.check_password(cmd.password)
    name, language = model.clean_name(cmd.full_name), model.check_language(cmd.language)
    return phone, name, language, model.check_ward(cmd.home_ward_code)


async def register(cmd: Register, uow, sender: OtpSender, *,  # noqa: ANN001
                   password_hash: str = "") -> tuple[User, int]:
    """Start a sign-up: a pending account and a verify_phone code; the resend wait.

    A number that already has an account gets the same answer (and its owner a log-in code), so
    sign-up does not reveal who is registered; a pending sign-up of the number is replaced.
    `password_hash`: from `new_password_hash` (else hashed here).
    """
    phone, name, language, ward = _checked(cmd)
    password_hash = password_hash or await hash_password(cmd.password)
    existing = await live_user_by_phone(uow.session, phone)
    if existing is not None and (existing.phone_verified_at is not None or existing.password_hash is None):
        decoy = User(id=new_id(), phone=phone, full_name=name, language=language, home_ward_code=ward,
                     role="citizen", agency_code="", assurance_level=0, created_at=now())
        wait = await otp.send_code(uow, sender, phone=phone, purpose="login", user=existing,
                                   deliver=otp.eligible(existing, "login"))
        return decoy, wait
    user = existing or User(id=new_id(), phone=phone, role="citizen", agency_code="", assurance_level=0,
                            created_at=now())
    user.full_name, user.language, user.home_ward_code, user.password_hash = name, language, ward, password_hash
    if existing is None:
        uow.session.add(user)
    await uow.session.flush()
    wait = await otp.send_code(uow, sender, phone=phone, purpose="verify_phone", user=user, deliver=True)
    return user, wait


async def verify_phone(uow, cfg: sessions.TokenConfig, *, phone: str, code: str, client_ip: str) -> sessions.Tokens:  # noqa: ANN001
    """Finish a sign-up with the SMS code: assurance level 1, user_registered, and a session."""
    try:
        e164 = model.normalise_phone(phone)
    except InvalidPhone as exc:
        raise OtpInvalid("the code is not valid") from exc
    user = await sessions.user_for_code(uow, phone=e164, purpose="verify_phone", code=code, client_ip=client_ip,
                                         throttle_keys=await sessions.throttle_keys_for(uow, e164, client_ip))
    user.phone_verified_at, user.assurance_level = now(), max(user.assurance_level, 1)
    _registered(uow, user)
    audit.record(uow.session, "phone_verified", actor_id=user.id, actor_role=user.role, subject_id=user.id,
                 client_ip=client_ip)
    tokens = await sessions.open_session(uow, user, cfg, method="verify_phone", client_ip=client_ip)
    await uow.commit()
    return tokens


async def create_account(cmd: Register, uow, *, verified: bool) -> User:  # noqa: ANN001
    """An account created by the platform itself (bootstrap, demo seed): phone verified when `verified`."""
    phone = model.normalise_phone(cmd.phone)
    if cmd.password:
        model.check_password(cmd.password)
    user = User(id=new_id(), phone=phone, full_name=model.clean_name(cmd.full_name),
                password_hash=await hash_password(cmd.password) if cmd.password else None,
                language=model.check_language(cmd.language), home_ward_code=model.check_ward(cmd.home_ward_code),
                role=cmd.role, agency_code=cmd.agency_code, assurance_level=1 if verified else 0,
                created_at=now(), phone_verified_at=now() if verified else None)
    uow.session.add(user)
    _registered(uow, user)
    await uow.commit()
    return user


async def update_profile(uow, principal: Principal, *, full_name: str | None = None,  # noqa: ANN001
                         language: str | None = None, home_ward_code: str | None = None) -> User:
    """Change name, language and home ward (each only when given)."""
    user = await caller(uow.session, principal)
    if full_name is not None:
        if user.assurance_level >= 2 and model.clean_name(full_name) != user.full_name:
            raise PermissionDenied("the name of an identity-verified account comes from the verification",
                                   code="name_locked")
        user.full_name = model.clean_name(full_name)
    if language is not None:
        user.language = model.check_language(language)
    if home_ward_code is not None:
        user.home_ward_code = model.check_ward(home_ward_code)
    audit.record(uow.session, "profile_updated", actor_id=user.id, actor_role=user.role, subject_id=user.id,
                 fields=sorted(k for k, v in (("full_name", full_name), ("language", language),
                                               ("home_ward_code", home_ward_code)) if v is not None))
    await uow.commit()
    return user


def _iso(value) -> str | None:  # noqa: ANN001
    return value.isoformat() if value is not None else None


async def export_data(uow, principal: Principal) -> str:  # noqa: ANN001
    """Everything identity holds about the caller, as JSON (the export itself is audited)."""
    user = await caller(uow.session, principal)
    data = {
        "exported_at": now().isoformat(),
        "account": {"id": user.id, "phone": user.phone, "full_name": user.full_name, "language": user.language,
                    "home_ward_code": user.home_ward_code, "role": user.role, "agency_code": user.agency_code,
                    "assurance_level": user.assurance_level, "created_at": _iso(user.created_at),
                    "phone_verified_at": _iso(user.phone_verified_at)},
        "identity_verification": None if user.identity_verified_at is None else {
            "personal_id": user.personal_id, "birth_date": _iso(user.birth_date), "sex": user.sex,
            "verified_at": _iso(user.identity_verified_at)},
        "sessions": [{"id": s.id, "created_at": _iso(s.created_at), "last_used_at": _iso(s.last_used_at),
                      "expires_at": _iso(s.expires_at), "revoked_at": _iso(s.revoked_at), "client_ip": s.client_ip,
                      "method": s.method}
                     for s in await _sessions_of(uow, user.id)],
        "audit_log": [{"at": _iso(a.at), "action": a.action, "actor_id": a.actor_id, "subject_id": a.subject_id,
                       "client_ip": a.client_ip, "detail": json.loads(a.detail)}
                      for a in await audit.about(uow.session, user.id)],
    }
    audit.record(uow.session, "data_exported", actor_id=user.id, actor_role=user.role, subject_id=user.id)
    await uow.commit()
    return json.dumps(data, ensure_ascii=False, indent=2)


async def _sessions_of(uow, user_id: str) -> list[Session]:  # noqa: ANN001
    """All sessions of a user, oldest first."""
    return list((await uow.session.scalars(
        select(Session).where(Session.user_id == user_id).order_by(Session.created_at))).all())


async def delete_account(uow, principal: Principal, *, password: str) -> None:  # noqa: ANN001
    """Erase the resident's personal data, end every session and emit user_deleted."""
    user = await caller(uow.session, principal)
    if user.role != "citizen":
        raise PermissionDenied("staff accounts are disabled by their managers, not deleted", code="staff_account")
    if not await password_matches(user.password_hash, password):
        raise InvalidCredentials("password is wrong")
    await uow.session.execute(delete(OtpCode).where(OtpCode.phone == user.phone))
    user.phone = user.password_hash = user.personal_id = user.birth_date = user.sex = None
    user.full_name, user.home_ward_code, user.deleted_at = "", "", now()
    revoked = await sessions.revoke_all(uow, user.id)
    await uow.session.execute(update(Session).where(Session.user_id == user.id).values(client_ip=""))
    uow.emit(events_pb2.UserDeleted(user_id=user.id))
    audit.record(uow.session, "account_deleted", actor_id=user.id, actor_role="citizen", subject_id=user.id,
                 sessions_revoked=revoked)
    await uow.commit()

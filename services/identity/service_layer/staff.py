"""Staff accounts (least privilege), contact data for staff (audited) and for peer services, keys."""

from __future__ import annotations

from sqlalchemy import select

from congdanso.identity.v1 import events_pb2
from services.identity.adapters import keys
from services.identity.adapters.orm import User
from services.identity.domain import model
from services.identity.domain.errors import PhoneTaken, StaffNotAllowed
from services.identity.service_layer import audit, sessions
from services.identity.service_layer.users import live_user, live_user_by_phone, now
from servicekit.auth import Principal
from servicekit.errors import InvalidArgument
from servicekit.events import new_id

MAX_CONTACTS = 500
CONTACT_READERS = ("officer", "agency_admin", "operator")


async def create_staff(uow, actor: Principal, *, phone: str, full_name: str, role: str,  # noqa: ANN001
                       agency_code: str, language: str = "vi") -> User:
    """An officer / agency admin / auditor account without a password: the first SMS-code log-in
    verifies the phone, then the person may set a password with a reset code."""
    agency_code = (agency_code or "").strip()
    model.check_staff_role(role, agency_code)
    model.check_may_manage(actor.role, actor.agency_code, role, agency_code)
    e164 = model.normalise_phone(phone)
    if await live_user_by_phone(uow.session, e164) is not None:
        raise PhoneTaken("an account with this phone number exists")
    user = User(id=new_id(), phone=e164, full_name=model.clean_name(full_name), password_hash=None,
                language=model.check_language(language), home_ward_code="", role=role, agency_code=agency_code,
                assurance_level=0, created_at=now())
    uow.session.add(user)
    uow.emit(events_pb2.UserRegistered(user_id=user.id, role=role, agency_code=agency_code, language=user.language))
    audit.record(uow.session, "staff_created", actor_id=actor.user_id, actor_role=actor.role, subject_id=user.id,
                 role=role, agency_code=agency_code)
    await uow.commit()
    return user


async def list_staff(session, actor: Principal, *, agency_code: str = "", cursor: str = "",  # noqa: ANN001
                     limit: int = 50) -> tuple[list[User], str]:
    """Staff accounts by id; agency admins see their own agency only."""
    if actor.role == "agency_admin":
        agency_code = actor.agency_code
    limit = max(1, min(limit or 50, 200))
    q = (select(User).where(User.role.in_(model.STAFF_ROLES), User.deleted_at.is_(None))
         .order_by(User.id).limit(limit + 1))
    if agency_code:
        q = q.where(User.agency_code == agency_code)
    if cursor:
        q = q.where(User.id > cursor)
    rows = list((await session.scalars(q)).all())
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else "")


async def disable_staff(uow, actor: Principal, user_id: str) -> User:  # noqa: ANN001
    """Disable a staff account the actor may manage and end its sessions."""
    user = await live_user(uow.session, user_id)
    if user.role not in model.STAFF_ROLES:
        raise StaffNotAllowed("not a staff account")
    model.check_may_manage(actor.role, actor.agency_code, user.role, user.agency_code)
    if user.disabled_at is None:
        user.disabled_at = now()
        revoked = await sessions.revoke_all(uow, user.id)
        audit.record(uow.session, "staff_disabled", actor_id=actor.user_id, actor_role=actor.role,
                     subject_id=user.id, role=user.role, agency_code=user.agency_code, sessions_revoked=revoked)
        await uow.commit()
    return user


async def user_contact(uow, actor: Principal, *, user_id: str, reason: str) -> User:  # noqa: ANN001
    """A resident's contact data for staff; every read is written to the audit log."""
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise InvalidArgument("say why you need the contact data", code="reason_required", field="reason")
    user = await live_user(uow.session, user_id)
    audit.record(uow.session, "contact_read", actor_id=actor.user_id, actor_role=actor.role, subject_id=user.id,
                 reason=reason)
    await uow.commit()
    return user


async def contacts(session, user_ids: list[str]) -> list[User]:  # noqa: ANN001
    """Live accounts among `user_ids` (for notify to deliver messages)."""
    if len(user_ids) > MAX_CONTACTS:
        raise InvalidArgument(f"at most {MAX_CONTACTS} ids at once", code="too_many_ids", field="user_ids")
    if not user_ids:
        return []
    q = select(User).where(User.id.in_(set(user_ids)), User.deleted_at.is_(None))
    return list((await session.scalars(q)).all())


async def rotate_signing_key(uow, actor: Principal, *, lead_s: float = 0) -> tuple[str, str]:  # noqa: ANN001
    """A new signing key, published now and signing after `lead_s`; the old one verifies until its tokens expire."""
    new, old = await keys.rotate(uow.session, lead_s=lead_s)
    audit.record(uow.session, "signing_key_rotated", actor_id=actor.user_id, actor_role=actor.role,
                 kid=new.kid, retired_kid=old.kid if old else "", lead_s=lead_s)
    await uow.commit()
    return new.kid, old.kid if old else ""

"""Identity verification (assurance level 2) and the resident-registry import."""

from __future__ import annotations

from sqlalchemy import select

from congdanso.identity.v1 import events_pb2
from services.identity.adapters.orm import RegistryEntry, User
from services.identity.adapters.verifier import IdentityClaim, IdentityVerifier
from services.identity.domain import lockout, model, personal_id
from services.identity.domain.errors import IdentityNotMatched, PhoneNotVerified, VerificationLocked
from services.identity.domain.registry import RowError, parse_csv
from services.identity.service_layer import audit, throttle
from services.identity.service_layer.users import caller, now
from servicekit.auth import Principal


async def verify_identity(uow, verifier: IdentityVerifier, principal: Principal, *, number: str,  # noqa: ANN001
                          full_name: str, birth_date: str, sex: str) -> User:
    """Check the claim's structure, then the verifier; level 2 and user_verified on success.

    Failed checks are counted per account with long growing waits (the registry is not an oracle).
    """
    user = await caller(uow.session, principal)
    if user.assurance_level < 1:
        raise PhoneNotVerified("verify your phone number first")
    key, t = f"idv:{user.id}", now()
    if await throttle.is_locked(uow.session, key, t):
        raise VerificationLocked("too many failed attempts; try again later")
    born = personal_id.parse_birth_date(birth_date)
    pid = personal_id.check(number, born, sex)
    name = model.clean_name(full_name)
    claim = IdentityClaim(personal_id=pid.number, full_name=name, birth_date=born, sex=sex)
    holder = await uow.session.scalar(select(User.id).where(User.personal_id == pid.number))
    if (holder not in (None, user.id)) or not await verifier.verify(claim, uow.session):
        await throttle.fail(uow.session, key, lockout.IDENTITY_CHECK, t)
        audit.record(uow.session, "identity_verification_failed", actor_id=user.id, actor_role=user.role,
                     subject_id=user.id)
        await uow.commit()
        raise IdentityNotMatched("the identity could not be confirmed")
    user.personal_id, user.birth_date, user.sex, user.full_name = pid.number, born, sex, name
    user.identity_verified_at, user.assurance_level = t, 2
    await throttle.clear(uow.session, key)
    uow.emit(events_pb2.UserVerified(user_id=user.id, assurance_level=2))
    audit.record(uow.session, "identity_verified", actor_id=user.id, actor_role=user.role, subject_id=user.id)
    await uow.commit()
    return user


async def import_registry(uow, text: str) -> tuple[int, list[RowError]]:  # noqa: ANN001
    """Upsert the good rows of a registry CSV; the number imported and the per-row errors."""
    entries, errors = parse_csv(text)
    t = now()
    for e in entries:
        await uow.session.merge(RegistryEntry(personal_id=e.personal_id, full_name=e.full_name,
                                              birth_date=e.birth_date, sex=e.sex, imported_at=t))
    await uow.commit()
    return len(entries), errors

"""Identity verification (assurance level 2) through a pluggable verifier.

Interface: an `IdentityVerifier` has one coroutine, `verify(claim) -> bool`, answering whether the
claimed person (12-digit personal ID number, full name, birth date, sex) exists as stated. The
handler has already checked the number's structure against the birth date and sex. A verifier must
not log or keep the claim. `RegistryVerifier` (the default) looks the claim up in the resident
registry the city imports from CSV (`python -m services.identity import-registry FILE`); a VNeID
adapter implements the same method by calling the national identity platform instead, and is
selected in `services/identity/__main__.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.adapters.orm import RegistryEntry
from services.identity.domain.registry import same_name


@dataclass(frozen=True)
class IdentityClaim:
    """Who a resident says they are."""

    personal_id: str
    full_name: str
    birth_date: date
    sex: str


class IdentityVerifier(Protocol):
    """Confirms or refuses an identity claim."""

    async def verify(self, claim: IdentityClaim, session: AsyncSession) -> bool:
        """True when the claimed person exists exactly as stated."""


class RegistryVerifier:
    """Checks claims against the imported resident registry (table resident_registry)."""

    async def verify(self, claim: IdentityClaim, session: AsyncSession) -> bool:
        """Same number, name (NFC, case-insensitive), birth date and sex."""
        entry = await session.get(RegistryEntry, claim.personal_id)
        return (entry is not None and same_name(entry.full_name, claim.full_name)
                and entry.birth_date == claim.birth_date and entry.sex == claim.sex)

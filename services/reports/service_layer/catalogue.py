"""The category catalogue: operators create and change categories and their extra fields."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.reports.adapters.orm import Category
from services.reports.domain import attributes as attrs
from services.reports.domain import model
from services.reports.domain.errors import UnknownCategory
from services.reports.service_layer import reference
from servicekit.auth import Principal
from servicekit.errors import InvalidArgument, PermissionDenied

CODE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
GROUP = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


@dataclass(frozen=True)
class UpsertCategory:
    code: str
    name_vi: str
    name_en: str
    kind: str
    group: str
    active: bool = True
    photo_required: bool = False
    urgent: bool = False
    description_vi: str = ""
    description_en: str = ""
    attributes: list[dict] = field(default_factory=list)


async def get_category(code: str, session) -> Category:  # noqa: ANN001
    """One category (inactive ones too: old reports still name them)."""
    category = await session.get(Category, code)
    if category is None:
        raise UnknownCategory(f"unknown category {code!r}", field="code")
    return category


async def upsert_category(cmd: UpsertCategory, uow, principal: Principal) -> Category:  # noqa: ANN001
    """Create or replace a category; only operators manage the catalogue."""
    if principal.role != "operator":
        raise PermissionDenied("only the operations centre manages categories", code="role_not_allowed")
    if not CODE.match(cmd.code) or not GROUP.match(cmd.group):
        raise InvalidArgument("code and group are lower-case identifiers", code="invalid_category", field="code")
    if cmd.kind not in {k.value for k in model.Kind}:
        raise InvalidArgument("kind must be incident, feedback or proposal", code="invalid_kind", field="kind")
    values = {
        "name_vi": model.clean_text(cmd.name_vi, field="name", minimum=1, maximum=200),
        "name_en": model.clean_text(cmd.name_en, field="name", minimum=1, maximum=200),
        "kind": cmd.kind, "group": cmd.group, "active": cmd.active, "photo_required": cmd.photo_required,
        "urgent": cmd.urgent, "attributes": attrs.check_definition(cmd.attributes),
        "description_vi": model.clean_text(cmd.description_vi, field="description", minimum=0, maximum=1000),
        "description_en": model.clean_text(cmd.description_en, field="description", minimum=0, maximum=1000),
        "updated_at": datetime.now(UTC),
    }
    category = await uow.session.get(Category, cmd.code)
    if category is None:
        category = Category(code=cmd.code, **values)
        uow.session.add(category)
    else:
        for key, value in values.items():
            setattr(category, key, value)
    await uow.commit()
    reference.forget_categories(uow.session)
    return category

"""Staff-side RPCs of IdentityService: staff accounts, contact reads, audit log, key rotation."""

from __future__ import annotations

from congdanso.common.v1 import common_pb2
from congdanso.identity.v1 import identity_pb2
from services.identity.entrypoints.convert import audit_pb, contact_pb, user_pb
from services.identity.service_layer import audit, staff
from services.identity.service_layer.users import caller
from servicekit.auth import require_principal, require_service


class StaffRpcs:
    """Mixin of IdentityServicer (uses self.uow)."""

    async def CreateStaff(self, request, context):  # noqa: ANN001, N802
        actor = require_principal("operator", "agency_admin")
        async with self.uow() as uow:
            await caller(uow.session, actor)
            return user_pb(await staff.create_staff(uow, actor, phone=request.phone, full_name=request.full_name,
                                                    role=request.role, agency_code=request.agency_code,
                                                    language=request.language))

    async def ListStaff(self, request, context):  # noqa: ANN001, N802
        actor = require_principal("operator", "agency_admin", "auditor")
        async with self.uow(read_only=True) as uow:
            await caller(uow.session, actor)
            rows, cursor = await staff.list_staff(uow.session, actor, agency_code=request.agency_code,
                                                  cursor=request.page.cursor, limit=request.page.limit)
        return identity_pb2.ListStaffResponse(users=[user_pb(u) for u in rows],
                                              page=common_pb2.PageResponse(next_cursor=cursor))

    async def DisableStaff(self, request, context):  # noqa: ANN001, N802
        actor = require_principal("operator", "agency_admin")
        async with self.uow() as uow:
            await caller(uow.session, actor)
            return user_pb(await staff.disable_staff(uow, actor, request.user_id))

    async def GetUserContact(self, request, context):  # noqa: ANN001, N802
        actor = require_principal(*staff.CONTACT_READERS)
        async with self.uow() as uow:
            await caller(uow.session, actor)
            return contact_pb(await staff.user_contact(uow, actor, user_id=request.user_id, reason=request.reason))

    async def ListAuditLog(self, request, context):  # noqa: ANN001, N802
        actor = require_principal("auditor", "operator")
        async with self.uow(read_only=True) as uow:
            await caller(uow.session, actor)
            rows, cursor = await audit.list_entries(uow.session, action=request.action, actor_id=request.actor_id,
                                                    subject_id=request.subject_id, cursor=request.page.cursor,
                                                    limit=request.page.limit)
        return identity_pb2.ListAuditLogResponse(entries=[audit_pb(a) for a in rows],
                                                 page=common_pb2.PageResponse(next_cursor=cursor))

    async def RotateSigningKey(self, request, context):  # noqa: ANN001, N802
        actor = require_principal("operator")
        async with self.uow() as uow:
            await caller(uow.session, actor)
            kid, retired = await staff.rotate_signing_key(uow, actor, lead_s=self.settings.key_publish_lead_s)
        return identity_pb2.RotateSigningKeyResponse(kid=kid, retired_kid=retired)

    async def GetContacts(self, request, context):  # noqa: ANN001, N802
        require_service("notify")
        async with self.uow(read_only=True) as uow:
            rows = await staff.contacts(uow.session, list(request.user_ids))
        return identity_pb2.GetContactsResponse(contacts=[contact_pb(u) for u in rows])

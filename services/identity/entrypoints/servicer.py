"""IdentityService gRPC servicer: proto <-> handlers, nothing else."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from congdanso.identity.v1 import identity_pb2, identity_pb2_grpc
from services.identity.adapters import keys
from services.identity.adapters.orm import User
from services.identity.config import IdentitySettings
from services.identity.service_layer import handlers
from servicekit.auth import require_principal
from servicekit.errors import NotFound


def user_pb(user: User) -> identity_pb2.User:
    """Proto view of a user (contact data included: callers are the user or trusted staff paths)."""
    created = Timestamp()
    created.FromDatetime(user.created_at)
    return identity_pb2.User(
        id=user.id, phone=user.phone or "", full_name=user.full_name, language=user.language,
        home_ward_code=user.home_ward_code, role=user.role, agency_code=user.agency_code,
        assurance_level=user.assurance_level, created_at=created,
    )


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    """Translates RPCs to identity handlers."""

    def __init__(self, uow_factory, settings: IdentitySettings):  # noqa: ANN001
        self.uow, self.settings = uow_factory, settings

    def _token_args(self) -> dict:
        s = self.settings
        return {"access_ttl": s.access_ttl_s, "issuer": s.jwt_issuer, "audience": s.jwt_audience}

    async def Register(self, request, context):  # noqa: ANN001, N802
        cmd = handlers.Register(phone=request.phone, password=request.password, full_name=request.full_name,
                                language=request.language, home_ward_code=request.home_ward_code)
        async with self.uow() as uow:
            user = await handlers.register(cmd, uow)
        return identity_pb2.RegisterResponse(user=user_pb(user))

    async def Login(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            t = await handlers.login(request.phone, request.password, uow,
                                     refresh_ttl=self.settings.refresh_ttl_s, **self._token_args())
        return identity_pb2.TokenPair(access_token=t.access_token, refresh_token=t.refresh_token,
                                      expires_in=t.expires_in, token_type="Bearer")

    async def Refresh(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            t = await handlers.refresh(request.refresh_token, uow, **self._token_args())
        return identity_pb2.TokenPair(access_token=t.access_token, refresh_token=t.refresh_token,
                                      expires_in=t.expires_in, token_type="Bearer")

    async def Logout(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            await handlers.logout(principal.session_id, uow)
        return identity_pb2.LogoutResponse()

    async def GetJwks(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            return identity_pb2.GetJwksResponse(
                jwks_json=await keys.jwks(uow.session, verify_window_s=2 * self.settings.access_ttl_s))

    async def GetMe(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            user = await uow.session.get(User, principal.user_id)
        if user is None or user.deleted_at is not None:
            raise NotFound("account not found", code="user_not_found")
        return user_pb(user)

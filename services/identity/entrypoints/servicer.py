"""IdentityService gRPC servicer: proto <-> handlers, nothing else."""

from __future__ import annotations

from congdanso.identity.v1 import identity_pb2, identity_pb2_grpc
from services.identity.adapters import keys
from services.identity.adapters.sms import OtpSender
from services.identity.adapters.verifier import IdentityVerifier
from services.identity.config import IdentitySettings
from services.identity.entrypoints.client_rpcs import ClientRpcs
from services.identity.entrypoints.convert import session_pb, tokens_pb, user_pb
from services.identity.entrypoints.staff_rpcs import StaffRpcs
from services.identity.service_layer import accounts, otp, sessions, verification
from services.identity.service_layer.users import caller
from servicekit.auth import require_principal


class IdentityServicer(StaffRpcs, ClientRpcs, identity_pb2_grpc.IdentityServiceServicer):
    """Translates RPCs to identity handlers."""

    def __init__(self, uow_factory, settings: IdentitySettings, *, sms: OtpSender,  # noqa: ANN001
                 verifier: IdentityVerifier):
        self.uow, self.settings, self.sms, self.verifier = uow_factory, settings, sms, verifier
        self.tokens = sessions.TokenConfig(access_ttl=settings.access_ttl_s, refresh_ttl=settings.refresh_ttl_s,
                                           issuer=settings.jwt_issuer, audience=settings.jwt_audience)

    async def Register(self, request, context):  # noqa: ANN001, N802
        cmd = accounts.Register(phone=request.phone, password=request.password, full_name=request.full_name,
                                language=request.language, home_ward_code=request.home_ward_code)
        password_hash = await accounts.new_password_hash(cmd)   # outside the writing transaction
        async with self.uow() as uow:
            user, wait = await accounts.register(cmd, uow, self.sms, password_hash=password_hash)
        return identity_pb2.RegisterResponse(user=user_pb(user), otp_expires_in=300, resend_after=wait)

    async def VerifyPhone(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            return tokens_pb(await accounts.verify_phone(uow, self.tokens, phone=request.phone, code=request.code,
                                                         client_ip=request.client_ip))

    async def RequestOtp(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            wait = await otp.request_code(uow, self.sms, phone=request.phone, purpose=request.purpose)
        return identity_pb2.RequestOtpResponse(expires_in=300, resend_after=wait)

    async def LoginWithOtp(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            return tokens_pb(await sessions.login_with_code(uow, self.tokens, phone=request.phone, code=request.code,
                                                            client_ip=request.client_ip))

    async def ResetPassword(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            await sessions.reset_password(uow, phone=request.phone, code=request.code,
                                          new_password=request.new_password, client_ip=request.client_ip)
        return identity_pb2.ResetPasswordResponse()

    async def Login(self, request, context):  # noqa: ANN001, N802
        async with self.uow(read_only=True) as uow:
            stored = await sessions.stored_password_hash(uow.session, request.phone)
        checked = await sessions.check_password(stored, request.password)   # outside any transaction
        async with self.uow() as uow:
            return tokens_pb(await sessions.login(uow, self.tokens, phone=request.phone, password=request.password,
                                                  client_ip=request.client_ip, checked=checked))

    async def Refresh(self, request, context):  # noqa: ANN001, N802
        async with self.uow() as uow:
            return tokens_pb(await sessions.refresh(uow, self.tokens, token=request.refresh_token,
                                                    client_ip=request.client_ip))

    async def GetJwks(self, request, context):  # noqa: ANN001, N802
        async with self.uow(read_only=True) as uow:
            return identity_pb2.GetJwksResponse(
                jwks_json=await keys.jwks(uow.session, verify_window_s=2 * self.settings.access_ttl_s))

    async def Logout(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            await sessions.revoke(uow, principal.user_id, principal.session_id)
        return identity_pb2.LogoutResponse()

    async def GetMe(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow(read_only=True) as uow:
            return user_pb(await caller(uow.session, principal))

    async def UpdateProfile(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        fields = {f: getattr(request, f) for f in ("full_name", "language", "home_ward_code") if request.HasField(f)}
        async with self.uow() as uow:
            return user_pb(await accounts.update_profile(uow, principal, **fields))

    async def ListSessions(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow(read_only=True) as uow:
            await caller(uow.session, principal)
            rows = await sessions.list_sessions(uow.session, principal.user_id)
        return identity_pb2.ListSessionsResponse(sessions=[session_pb(s, principal.session_id) for s in rows])

    async def RevokeSession(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            await caller(uow.session, principal)
            await sessions.revoke(uow, principal.user_id, request.session_id)
        return identity_pb2.RevokeSessionResponse(revoked=1)

    async def RevokeOtherSessions(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            await caller(uow.session, principal)
            revoked = await sessions.revoke_all(uow, principal.user_id, keep=principal.session_id)
            await uow.commit()
        return identity_pb2.RevokeSessionResponse(revoked=revoked)

    async def ExportMyData(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            return identity_pb2.ExportMyDataResponse(json=await accounts.export_data(uow, principal))

    async def DeleteMyAccount(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            await accounts.delete_account(uow, principal, password=request.password)
        return identity_pb2.DeleteMyAccountResponse()

    async def VerifyIdentity(self, request, context):  # noqa: ANN001, N802
        principal = require_principal()
        async with self.uow() as uow:
            return user_pb(await verification.verify_identity(
                uow, self.verifier, principal, number=request.personal_id, full_name=request.full_name,
                birth_date=request.birth_date, sex=request.sex))

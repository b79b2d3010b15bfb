"""Access-token verification every service does itself (EdDSA/ES256 JWT against identity's JWKS)."""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import jwt

from servicekit.errors import PermissionDenied, Unauthenticated

ALGORITHMS = ["EdDSA", "ES256"]
STAFF_ROLES = frozenset({"officer", "agency_admin", "operator", "auditor"})


@dataclass(frozen=True)
class Principal:
    """Who is calling, from a verified access token."""

    user_id: str
    role: str
    agency_code: str = ""
    assurance_level: int = 0
    session_id: str = ""
    token: str = ""
    scopes: frozenset[str] = frozenset()   # integration clients: OAuth2 scopes from the `scope` claim

    @property
    def is_staff(self) -> bool:
        """Officers, agency admins, operators and auditors."""
        return self.role in STAFF_ROLES


current_principal: contextvars.ContextVar[Principal | None] = contextvars.ContextVar(
    "current_principal", default=None
)


def require_principal(*roles: str) -> Principal:
    """The caller, or UNAUTHENTICATED; PERMISSION_DENIED unless their role is one of `roles`."""
    principal = current_principal.get()
    if principal is None:
        raise Unauthenticated("sign-in required", code="auth_required")
    if roles and principal.role not in roles:
        raise PermissionDenied("role not allowed", code="role_not_allowed")
    return principal


class JwtVerifier:
    """Verifies tokens against a JWKS it fetches lazily and refetches on an unknown `kid`.

    A token that verified is remembered (the exact token string, up to `remember` of them) until it
    expires, so a client's next requests with the same token cost a dictionary lookup instead of a
    signature check; its expiry is still checked on every use and it is forgotten when its signing
    key leaves the key set.
    """

    def __init__(self, fetch_jwks: Callable[[], Awaitable[str]], *, issuer: str, audience: str,
                 leeway: float = 5.0, refetch_interval: float = 5.0, remember: int = 10_000):
        self._fetch, self.issuer, self.audience = fetch_jwks, issuer, audience
        self.leeway, self.refetch_interval, self.remember = leeway, refetch_interval, remember
        self._verified: dict[str, tuple[float, str, Principal]] = {}   # token -> (exp, kid, principal)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self, force: bool) -> None:
        """Reload the key set, at most once per `refetch_interval` unless empty."""
        async with self._lock:
            if self._keys and not force:
                return
            if self._keys and time.monotonic() - self._fetched_at < self.refetch_interval:
                return
            jwks = json.loads(await self._fetch())
            self._keys = {k["kid"]: jwt.PyJWK(k) for k in jwks.get("keys", []) if "kid" in k}
            self._fetched_at = time.monotonic()

    async def key_for(self, kid: str) -> jwt.PyJWK:
        """The public key for `kid`; refetch once when unknown."""
        if kid not in self._keys:
            await self._refresh(force=bool(self._keys))
        if kid not in self._keys:
            raise Unauthenticated("unknown signing key", code="token_invalid")
        return self._keys[kid]

    async def verify(self, token: str) -> Principal:
        """Check signature, algorithm, expiry, issuer and audience; return the principal."""
        if (known := self._verified.get(token)) is not None:
            exp, kid, principal = known
            if time.time() < exp + self.leeway and kid in self._keys:
                return principal
            del self._verified[token]
        principal, exp, kid = await self._verify(token)
        if len(self._verified) >= self.remember:
            del self._verified[next(iter(self._verified))]   # the oldest
        self._verified[token] = (exp, kid, principal)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float, str]:
        """The full check: (principal, exp, kid)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("malformed token", code="token_invalid") from exc
        if header.get("alg") not in ALGORITHMS or not header.get("kid"):
            raise Unauthenticated("token algorithm not accepted", code="token_invalid")
        key = await self.key_for(str(header["kid"]))
        try:
            claims = jwt.decode(
                token, key=key, algorithms=[key.algorithm_name] if key.algorithm_name in ALGORITHMS else [],
                audience=self.audience, issuer=self.issuer, leeway=self.leeway,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired", code="token_expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("token rejected", code="token_invalid") from exc
        return Principal(
            user_id=str(claims["sub"]), role=str(claims.get("role", "citizen")),
            agency_code=str(claims.get("agency") or ""), assurance_level=int(claims.get("acr", 0) or 0),
            session_id=str(claims.get("sid") or ""), token=token,
            scopes=frozenset(str(claims.get("scope") or "").split()),
        ), float(claims["exp"]), str(header["kid"])


INTERNAL_KEY = "x-cds-internal"


def internal_caller(metadata, expected: str) -> str | None:  # noqa: ANN001
    """Name of the peer service presenting the deployment's internal token, if it does.

    Metadata `x-cds-internal: <service>:<token>`; the token (CDS_INTERNAL_TOKEN) is shared by the
    platform's own processes only and compared in constant time.
    """
    if not expected:
        return None
    for key, value in metadata or ():
        if key == INTERNAL_KEY and isinstance(value, str) and ":" in value:
            service, _, token = value.partition(":")
            if hmac.compare_digest(token.encode(), expected.encode()) and service.isidentifier():
                return service
    return None


def require_service(*services: str) -> Principal:
    """The calling peer service (internal token), or PERMISSION_DENIED."""
    principal = current_principal.get()
    if principal is None or principal.role != "service":
        raise PermissionDenied("internal call only", code="internal_only")
    if services and principal.user_id.removeprefix("service:") not in services:
        raise PermissionDenied("service not allowed", code="internal_only")
    return principal


def bearer(metadata) -> str | None:  # noqa: ANN001
    """The bearer token in gRPC invocation metadata, if any."""
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str) and value.lower().startswith("bearer "):
            return value[7:].strip()
    return None


def grpc_jwks_fetcher(identity_addr: str) -> Callable[[], Awaitable[str]]:
    """A JWKS source that asks the identity service over gRPC (one channel, reused)."""
    from congdanso.identity.v1 import identity_pb2, identity_pb2_grpc
    from servicekit.grpcclient import channel

    stub = identity_pb2_grpc.IdentityServiceStub(channel(identity_addr))

    async def fetch() -> str:
        reply = await stub.GetJwks(identity_pb2.GetJwksRequest(), timeout=5)
        return reply.jwks_json

    return fetch

"""Bearer-token check at the edge: verified locally against identity's JWKS, then forwarded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import Scope

from servicekit.auth import JwtVerifier, Principal
from servicekit.errors import Unauthenticated

# Declares the scheme in OpenAPI; errors are ours (auto_error=False) so they come as problem+json.
bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT",
                           description="Access token from POST /api/v1/auth/login")
# Key in the request's state (scope["state"]): (token, Principal or the Unauthenticated it raised).
VERIFIED_KEY = "cds_verified_token"


async def verifier(request: Request) -> JwtVerifier:
    """The process's JWT verifier, created in the lifespan (async: no thread-pool hop per request)."""
    return request.app.state.verifier


async def verify_once(scope: Scope, token: str) -> Principal:
    """Verify `token` at most once per request: the rate limiter and the route share the outcome.

    Only a definitive answer (a principal, or Unauthenticated) is kept, and only for this exact token;
    a failure to fetch the key set is not, so the route tries again and answers it itself.
    """
    state = scope.setdefault("state", {})
    cached = state.get(VERIFIED_KEY)
    if cached is not None and cached[0] == token:
        outcome = cached[1]
    else:
        try:
            outcome = await scope["app"].state.verifier.verify(token)
        except Unauthenticated as exc:
            outcome = exc
        state[VERIFIED_KEY] = (token, outcome)
    if isinstance(outcome, Unauthenticated):
        raise outcome
    return outcome


def principal(required: bool = True) -> Callable[..., Awaitable[Principal | None]]:
    """A dependency returning the verified caller; None when anonymous and `required` is False."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal | None:
        if credentials is None:
            if request.headers.get("authorization"):
                raise Unauthenticated("Authorization must be 'Bearer <token>'", code="token_invalid")
            if required:
                raise Unauthenticated("sign-in required", code="auth_required")
            return None
        return await verify_once(request.scope, credentials.credentials)

    return dependency


CurrentPrincipal = Annotated[Principal, Depends(principal())]
OptionalPrincipal = Annotated[Principal | None, Depends(principal(required=False))]

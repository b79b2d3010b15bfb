"""Bearer-token check at the edge: verified locally against identity's JWKS, then forwarded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from servicekit.auth import JwtVerifier, Principal
from servicekit.errors import Unauthenticated

# Declares the scheme in OpenAPI; errors are ours (auto_error=False) so they come as problem+json.
bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT",
                           description="Access token from POST /api/v1/auth/login")


def verifier(request: Request) -> JwtVerifier:
    """The process's JWT verifier, created in the lifespan."""
    return request.app.state.verifier


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
        return await verifier(request).verify(credentials.credentials)

    return dependency


CurrentPrincipal = Annotated[Principal, Depends(principal())]
OptionalPrincipal = Annotated[Principal | None, Depends(principal(required=False))]

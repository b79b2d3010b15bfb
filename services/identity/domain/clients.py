"""Integration clients (OAuth2 client credentials): scopes and their rules."""

from __future__ import annotations

from services.identity.domain.errors import InvalidScope

SCOPES = ("reports:read", "reports:write", "open311:submit", "webhooks:manage")
# Scopes that act for an agency need the client bound to one.
AGENCY_SCOPES = ("reports:write", "webhooks:manage")


def parse_scopes(value: str | list[str]) -> list[str]:
    """Space-separated (or listed) scopes, deduplicated in canonical order; InvalidScope if unknown."""
    items = value.split() if isinstance(value, str) else [s for v in value for s in v.split()]
    unknown = sorted(set(items) - set(SCOPES))
    if unknown:
        raise InvalidScope(f"unknown scope(s): {' '.join(unknown)}", field="scopes")
    return [s for s in SCOPES if s in items]


def check_client_scopes(scopes: list[str], agency_code: str) -> None:
    """At least one scope; agency-acting scopes only for agency-bound clients."""
    if not scopes:
        raise InvalidScope("a client needs at least one scope", field="scopes")
    needs_agency = [s for s in scopes if s in AGENCY_SCOPES]
    if needs_agency and not agency_code:
        raise InvalidScope(f"{' '.join(needs_agency)} need(s) an agency-bound client", field="agency_code")


def granted(requested: str, allowed: list[str]) -> list[str]:
    """Scopes for a token: all the client's when none are asked, else the asked ones if all allowed."""
    if not requested.strip():
        return list(allowed)
    asked = parse_scopes(requested)
    if set(asked) - set(allowed):
        raise InvalidScope("scope not granted to this client", code="scope_not_allowed", field="scope")
    return asked

"""Integration-client scopes."""

import pytest

from services.identity.domain import clients
from services.identity.domain.errors import InvalidScope


def test_scopes_parse_to_canonical_order_without_duplicates():
    assert clients.parse_scopes("open311:submit reports:read open311:submit") == ["reports:read", "open311:submit"]
    assert clients.parse_scopes(["reports:write", "reports:read"]) == ["reports:read", "reports:write"]
    with pytest.raises(InvalidScope):
        clients.parse_scopes("reports:read admin")


def test_agency_scopes_need_an_agency():
    clients.check_client_scopes(["reports:read", "open311:submit"], "")
    clients.check_client_scopes(["reports:write"], "ubnd_26743")
    for scopes, agency in ((["reports:write"], ""), (["webhooks:manage"], ""), ([], "ubnd_26743")):
        with pytest.raises(InvalidScope):
            clients.check_client_scopes(scopes, agency)


def test_granted_scopes():
    allowed = ["reports:read", "open311:submit"]
    assert clients.granted("", allowed) == allowed
    assert clients.granted("open311:submit", allowed) == ["open311:submit"]
    with pytest.raises(InvalidScope) as err:
        clients.granted("reports:write", allowed)
    assert err.value.code == "scope_not_allowed"

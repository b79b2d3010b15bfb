"""Integration clients: secrets shown once and stored hashed, client-credentials tokens, rotation, disable."""

from __future__ import annotations

import jwt
import pytest
from sqlalchemy import select

from services.identity.adapters.orm import Client
from services.identity.domain.errors import ClientNotFound, InvalidClient, InvalidScope, StaffNotAllowed
from services.identity.service_layer import clients
from servicekit.auth import Principal
from tests.integration.identity.conftest import CFG

OPERATOR = Principal(user_id="op-1", role="operator")
ADMIN = Principal(user_id="adm-1", role="agency_admin", agency_code="ubnd_26743")


async def _create(identity, actor=ADMIN, scopes=("reports:read", "reports:write"), agency="ubnd_26743"):  # noqa: ANN001, ANN202
    async with identity.uow() as uow:
        return await clients.create_client(uow, actor, name="Một cửa Bến Thành", scopes=list(scopes),
                                           agency_code=agency)


async def _token(identity, **kwargs):  # noqa: ANN001, ANN202
    async with identity.uow() as uow:
        return await clients.issue_token(uow, CFG, **{"client_id": "", "client_secret": "", "client_ip": "10.0.0.1",
                                                      **kwargs})


async def test_secrets_are_shown_once_and_stored_hashed(identity):
    issued = await _create(identity)
    assert issued.client_secret.startswith("cds_cs_") and issued.api_key.startswith("cds_ak_")
    async with identity.uow() as uow:
        row = (await uow.session.scalars(select(Client))).one()
    assert issued.client_secret not in row.secret_hash and issued.api_key not in row.api_key_hash
    assert row.scopes == "reports:read reports:write" and row.agency_code == "ubnd_26743"
    [entry] = await identity.audit("client_created")
    assert entry.subject_id == row.id and "cds_" not in entry.detail


async def test_client_credentials_token_carries_role_scope_and_agency(identity):
    issued = await _create(identity)
    token = await _token(identity, client_id=issued.client.id, client_secret=issued.client_secret,
                         scope="reports:read")
    principal = await identity.verifier.verify(token.access_token)
    assert (principal.role, principal.agency_code, principal.user_id) == (
        "client", "ubnd_26743", f"client:{issued.client.id}")
    claims = jwt.decode(token.access_token, options={"verify_signature": False})
    assert claims["scope"] == "reports:read" and token.expires_in == CFG.access_ttl
    by_key = await _token(identity, api_key=issued.api_key)
    assert jwt.decode(by_key.access_token, options={"verify_signature": False})["scope"] == \
        "reports:read reports:write"
    with pytest.raises(InvalidScope):
        await _token(identity, client_id=issued.client.id, client_secret=issued.client_secret,
                     scope="open311:submit")


async def test_wrong_unknown_and_disabled_clients_get_the_same_error(identity):
    issued = await _create(identity)
    for kwargs in ({"client_id": issued.client.id, "client_secret": "cds_cs_wrong"},
                   {"client_id": "cli_nobody", "client_secret": issued.client_secret},
                   {"api_key": "cds_ak_wrong"}):
        with pytest.raises(InvalidClient):
            await _token(identity, **kwargs)
    assert len(await identity.audit("client_auth_failed")) == 3
    async with identity.uow() as uow:
        await clients.disable_client(uow, ADMIN, issued.client.id)
    with pytest.raises(InvalidClient):
        await _token(identity, client_id=issued.client.id, client_secret=issued.client_secret)
    with pytest.raises(InvalidClient):
        await _token(identity, api_key=issued.api_key)


async def test_secret_rotation_replaces_the_secret_at_once(identity):
    issued = await _create(identity)
    async with identity.uow() as uow:
        rotated = await clients.rotate_secret(uow, ADMIN, issued.client.id)
    assert rotated.client_secret != issued.client_secret and rotated.api_key == ""
    with pytest.raises(InvalidClient):
        await _token(identity, client_id=issued.client.id, client_secret=issued.client_secret)
    assert await _token(identity, client_id=issued.client.id, client_secret=rotated.client_secret)
    assert [r.subject_id for r in await identity.audit("client_secret_rotated")] == [issued.client.id]


async def test_agency_admins_manage_their_own_agency_clients_only(identity):
    with pytest.raises(StaffNotAllowed):
        await _create(identity, agency="thoatnuoc")
    with pytest.raises(InvalidScope):
        await _create(identity, actor=OPERATOR, scopes=("reports:write",), agency="")
    theirs = await _create(identity, actor=OPERATOR, scopes=("open311:submit",), agency="")
    mine = await _create(identity)
    async with identity.uow() as uow:
        assert [c.id for c in await clients.list_clients(uow.session, ADMIN)] == [mine.client.id]
        assert len(await clients.list_clients(uow.session, OPERATOR)) == 2
    async with identity.uow() as uow:
        with pytest.raises(ClientNotFound):
            await clients.rotate_secret(uow, ADMIN, theirs.client.id)

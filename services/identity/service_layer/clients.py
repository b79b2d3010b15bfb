"""Integration clients: create (secret shown once), list, rotate the secret, disable, and the
OAuth2 client-credentials grant (also by Open311 api_key)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from services.identity.adapters import keys
from services.identity.adapters.orm import Client
from services.identity.domain import clients as rules
from services.identity.domain import lockout, model
from services.identity.domain.errors import ClientNotFound, InvalidClient, StaffNotAllowed
from services.identity.service_layer import audit, throttle
from services.identity.service_layer.sessions import TokenConfig
from services.identity.service_layer.users import now
from servicekit.auth import Principal
from servicekit.events import new_id

# A client's secret and api_key: the id is public; both secrets are shown once and kept as SHA-256
# (256-bit random values need no slow hash).
_DUMMY = hashlib.sha256(b"timing-equaliser").hexdigest()


@dataclass(frozen=True)
class IssuedClient:
    """A client with the secrets just made (only ever returned at creation / rotation)."""

    client: Client
    client_secret: str
    api_key: str = ""


@dataclass(frozen=True)
class ClientToken:
    access_token: str
    expires_in: int
    scopes: list[str]


def _digest(value: str) -> str:
    """SHA-256 hex of a secret."""
    return hashlib.sha256(value.encode()).hexdigest()


def _may_create(actor: Principal, agency_code: str) -> None:
    """Operators create any client; an agency admin only clients bound to its own agency."""
    if actor.role == "agency_admin" and agency_code != actor.agency_code:
        raise StaffNotAllowed("agency admins manage their own agency's clients only")


async def create_client(uow, actor: Principal, *, name: str, scopes: list[str], agency_code: str) -> IssuedClient:  # noqa: ANN001
    """A new client with its secret and Open311 api_key (both shown only now)."""
    agency_code = (agency_code or "").strip()
    _may_create(actor, agency_code)
    granted = rules.parse_scopes(scopes)
    rules.check_client_scopes(granted, agency_code)
    secret, api_key = "cds_cs_" + secrets.token_urlsafe(32), "cds_ak_" + secrets.token_urlsafe(32)
    client = Client(id="cli_" + secrets.token_hex(8), name=model.clean_name(name), secret_hash=_digest(secret),
                    api_key_hash=_digest(api_key), scopes=" ".join(granted), agency_code=agency_code,
                    created_by=actor.user_id, created_at=now())
    uow.session.add(client)
    audit.record(uow.session, "client_created", actor_id=actor.user_id, actor_role=actor.role, subject_id=client.id,
                 scopes=granted, agency_code=agency_code)
    await uow.commit()
    return IssuedClient(client, secret, api_key)


async def list_clients(session, actor: Principal) -> list[Client]:  # noqa: ANN001
    """Clients the actor manages, oldest first."""
    q = select(Client).order_by(Client.created_at, Client.id)
    if actor.role == "agency_admin":
        q = q.where(Client.agency_code == actor.agency_code)
    return list((await session.scalars(q)).all())


async def _managed(uow, actor: Principal, client_id: str) -> Client:  # noqa: ANN001
    """A client the actor manages (others look like unknown ones)."""
    client = await uow.session.get(Client, client_id)
    if client is None or (actor.role == "agency_admin" and client.agency_code != actor.agency_code):
        raise ClientNotFound("no such client")
    return client


async def rotate_secret(uow, actor: Principal, client_id: str) -> IssuedClient:  # noqa: ANN001
    """A new client secret (the old one stops working at once); tokens already issued run out."""
    client = await _managed(uow, actor, client_id)
    secret = "cds_cs_" + secrets.token_urlsafe(32)
    client.secret_hash, client.secret_rotated_at = _digest(secret), now()
    audit.record(uow.session, "client_secret_rotated", actor_id=actor.user_id, actor_role=actor.role,
                 subject_id=client.id)
    await uow.commit()
    return IssuedClient(client, secret)


async def disable_client(uow, actor: Principal, client_id: str) -> Client:  # noqa: ANN001
    """Stop issuing tokens to a client."""
    client = await _managed(uow, actor, client_id)
    if client.disabled_at is None:
        client.disabled_at = now()
        audit.record(uow.session, "client_disabled", actor_id=actor.user_id, actor_role=actor.role,
                     subject_id=client.id)
        await uow.commit()
    return client


async def _authenticate(uow, *, client_id: str, client_secret: str, api_key: str) -> Client | None:  # noqa: ANN001
    """The client proven by id + secret, or by api_key; None otherwise (constant-time compares)."""
    if api_key:
        client = await uow.session.scalar(select(Client).where(Client.api_key_hash == _digest(api_key)))
        return client if client is not None and client.disabled_at is None else None
    client = await uow.session.get(Client, client_id) if client_id else None
    ok = hmac.compare_digest(client.secret_hash if client else _DUMMY, _digest(client_secret or ""))
    return client if ok and client is not None and client.disabled_at is None else None


async def issue_token(uow, cfg: TokenConfig, *, client_id: str, client_secret: str, api_key: str = "",  # noqa: ANN001
                      scope: str = "", client_ip: str = "") -> ClientToken:
    """OAuth2 client-credentials grant: an access token with role `client`, its scopes and agency."""
    ip_key, t = throttle.ip_key(client_ip), now()
    client = None if await throttle.is_locked(uow.session, ip_key, t) else await _authenticate(
        uow, client_id=client_id, client_secret=client_secret, api_key=api_key)
    if client is None:
        audit.record(uow.session, "client_auth_failed", subject_id=client_id[:40], client_ip=client_ip)
        await throttle.fail(uow.session, ip_key, lockout.IP, t)
        await uow.commit()
        raise InvalidClient("client authentication failed")
    scopes = rules.granted(scope, client.scopes.split())
    key = await keys.current_key(uow.session)
    claims = {"iss": cfg.issuer, "aud": cfg.audience, "sub": f"client:{client.id}", "iat": int(t.timestamp()),
              "exp": int(t.timestamp()) + cfg.access_ttl, "jti": new_id(), "role": "client",
              "agency": client.agency_code or None, "scope": " ".join(scopes), "client_id": client.id}
    token = keys.sign(key, claims)
    await uow.commit()
    return ClientToken(token, cfg.access_ttl, scopes)

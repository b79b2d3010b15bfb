"""Domain rows -> protobuf messages."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from congdanso.identity.v1 import identity_pb2
from services.identity.adapters.orm import AuditRecord, Client, Session, User
from services.identity.service_layer.sessions import Tokens


def ts(value: datetime | None) -> Timestamp | None:
    """A Timestamp (naive values are UTC), or None."""
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    return out


def user_pb(user: User) -> identity_pb2.User:
    """Proto view of a user (contact data included: callers are the user or trusted staff paths)."""
    return identity_pb2.User(
        id=user.id, phone=user.phone or "", full_name=user.full_name, language=user.language,
        home_ward_code=user.home_ward_code, role=user.role, agency_code=user.agency_code,
        assurance_level=user.assurance_level, created_at=ts(user.created_at), disabled=user.disabled_at is not None,
    )


def tokens_pb(t: Tokens) -> identity_pb2.TokenPair:
    """Token pair."""
    return identity_pb2.TokenPair(access_token=t.access_token, refresh_token=t.refresh_token,
                                  expires_in=t.expires_in, token_type="Bearer")


def session_pb(s: Session, current_id: str) -> identity_pb2.SessionInfo:
    """One session as its owner sees it."""
    return identity_pb2.SessionInfo(id=s.id, created_at=ts(s.created_at), last_used_at=ts(s.last_used_at),
                                    expires_at=ts(s.expires_at), client_ip=s.client_ip, method=s.method,
                                    current=s.id == current_id)


def contact_pb(user: User) -> identity_pb2.Contact:
    """What is needed to reach someone."""
    return identity_pb2.Contact(user_id=user.id, phone=user.phone or "", full_name=user.full_name,
                                language=user.language)


def audit_pb(a: AuditRecord) -> identity_pb2.AuditEntry:
    """One audit entry."""
    return identity_pb2.AuditEntry(id=a.id, at=ts(a.at), action=a.action, actor_id=a.actor_id,
                                   actor_role=a.actor_role, subject_id=a.subject_id, client_ip=a.client_ip,
                                   detail_json=a.detail)


def client_pb(c: Client) -> identity_pb2.IntegrationClient:
    """An integration client, without secrets."""
    return identity_pb2.IntegrationClient(id=c.id, name=c.name, scopes=c.scopes.split(), agency_code=c.agency_code,
                                          created_at=ts(c.created_at), secret_rotated_at=ts(c.secret_rotated_at),
                                          disabled=c.disabled_at is not None)

"""Identity routes of the gateway (auth, me, staff) against fake peers: JSON <-> proto mapping,
token and client address forwarded, service error codes passed through."""

from __future__ import annotations

import base64
import json

import grpc

from congdanso.common.v1 import common_pb2
from congdanso.identity.v1 import identity_pb2
from tests.unit.gateway.conftest import DEFAULT_REPLIES, ts, user_pb

# The shared fakes answer only the RPCs listed in DEFAULT_REPLIES; register identity's newer ones.
DEFAULT_REPLIES.update({
    "VerifyPhone": lambda req, peers: identity_pb2.TokenPair(access_token="at-v", refresh_token="rt-v",
                                                             expires_in=900, token_type="Bearer"),
    "RequestOtp": lambda req, peers: identity_pb2.RequestOtpResponse(expires_in=300, resend_after=60),
    "LoginWithOtp": lambda req, peers: identity_pb2.TokenPair(access_token="at-o", refresh_token="rt-o",
                                                              expires_in=900, token_type="Bearer"),
    "ResetPassword": lambda req, peers: identity_pb2.ResetPasswordResponse(),
    "UpdateProfile": lambda req, peers: user_pb(),
    "ListSessions": lambda req, peers: identity_pb2.ListSessionsResponse(sessions=[identity_pb2.SessionInfo(
        id="s-1", created_at=ts(), expires_at=ts(), client_ip="127.0.0.1", method="otp", current=True)]),
    "RevokeSession": lambda req, peers: identity_pb2.RevokeSessionResponse(revoked=1),
    "RevokeOtherSessions": lambda req, peers: identity_pb2.RevokeSessionResponse(revoked=2),
    "ExportMyData": lambda req, peers: identity_pb2.ExportMyDataResponse(json=json.dumps({"account": {"id": "u-1"}})),
    "DeleteMyAccount": lambda req, peers: identity_pb2.DeleteMyAccountResponse(),
    "VerifyIdentity": lambda req, peers: identity_pb2.User(id="u-1", assurance_level=2, created_at=ts()),
    "CreateStaff": lambda req, peers: identity_pb2.User(id="u-9", phone="+84912000311", full_name=req.full_name,
                                                        role=req.role, agency_code=req.agency_code, created_at=ts()),
    "ListStaff": lambda req, peers: identity_pb2.ListStaffResponse(
        users=[identity_pb2.User(id="u-9", role="officer", disabled=True, created_at=ts())],
        page=common_pb2.PageResponse(next_cursor="c-2")),
    "DisableStaff": lambda req, peers: identity_pb2.User(id=req.user_id, role="officer", disabled=True,
                                                         created_at=ts()),
    "GetUserContact": lambda req, peers: identity_pb2.Contact(user_id=req.user_id, phone="+84901234567",
                                                              full_name="Nguyễn Văn An", language="vi"),
    "ListAuditLog": lambda req, peers: identity_pb2.ListAuditLogResponse(entries=[identity_pb2.AuditEntry(
        id="a-1", at=ts(), action="contact_read", actor_id="u-2", actor_role="officer", subject_id="u-1",
        detail_json='{"reason": "r"}')], page=common_pb2.PageResponse()),
    "RotateSigningKey": lambda req, peers: identity_pb2.RotateSigningKeyResponse(kid="k-2", retired_kid="k-1"),
    "IssueClientToken": lambda req, peers: identity_pb2.ClientTokenResponse(
        access_token="at-c", expires_in=900, scope=req.scope or "reports:read", token_type="Bearer"),
    "CreateClient": lambda req, peers: identity_pb2.ClientWithSecret(
        client=identity_pb2.IntegrationClient(id="cli_1", name=req.name, scopes=req.scopes,
                                              agency_code=req.agency_code, created_at=ts()),
        client_secret="cds_cs_x", api_key="cds_ak_y"),
})


async def test_register_reports_the_code_timing(client):
    r = await client.post("/api/v1/auth/register", json={"phone": "0901234567", "password": "mat-khau-dai",
                                                          "full_name": "B"})
    assert r.status_code == 201 and (r.json()["otp_expires_in"], r.json()["resend_after"]) == (300, 60)


async def test_code_flows_forward_phone_code_and_client_ip(client, peers):
    r = await client.post("/api/v1/auth/verify", json={"phone": "0901234567", "code": "012345"})
    assert r.status_code == 200 and r.json()["access_token"] == "at-v"
    sent = peers.last("VerifyPhone").request
    assert (sent.phone, sent.code, sent.client_ip) == ("0901234567", "012345", "127.0.0.1")
    r = await client.post("/api/v1/auth/otp", json={"phone": "0901234567", "purpose": "reset_password"})
    assert r.status_code == 202 and r.json() == {"expires_in": 300, "resend_after": 60}
    assert peers.last("RequestOtp").request.purpose == "reset_password"
    r = await client.post("/api/v1/auth/otp/login", json={"phone": "0901234567", "code": "123456"})
    assert r.json()["refresh_token"] == "rt-o"
    r = await client.post("/api/v1/auth/password/reset", json={"phone": "0901234567", "code": "123456",
                                                                "new_password": "mat-khau-moi"})
    assert r.status_code == 204 and peers.last("ResetPassword").request.new_password == "mat-khau-moi"


async def test_code_shape_and_purpose_are_validated_at_the_edge(client):
    for body in ({"phone": "0901234567", "code": "12345"}, {"phone": "0901234567", "code": "abcdef"}):
        r = await client.post("/api/v1/auth/verify", json=body)
        assert r.status_code == 400 and r.json()["code"] == "validation_error"
    r = await client.post("/api/v1/auth/otp", json={"phone": "0901234567", "purpose": "anything"})
    assert r.status_code == 400


async def test_otp_errors_keep_their_code_and_are_localized(client, peers):
    peers.fail("LoginWithOtp", grpc.StatusCode.UNAUTHENTICATED, "the code is not valid", code="otp_invalid")
    r = await client.post("/api/v1/auth/otp/login", json={"phone": "0901234567", "code": "123456"},
                          headers={"Accept-Language": "en"})
    assert (r.status_code, r.json()["code"], r.json()["title"]) == (401, "otp_invalid", "Invalid code")
    peers.fail("RequestOtp", grpc.StatusCode.RESOURCE_EXHAUSTED, "wait", code="otp_cooldown")
    r = await client.post("/api/v1/auth/otp", json={"phone": "0901234567", "purpose": "login"})
    assert (r.status_code, r.json()["code"], r.json()["title"]) == (429, "otp_cooldown", "Vui lòng chờ")


async def test_me_routes_forward_the_token(client, peers, bearer):
    headers = bearer()
    r = await client.patch("/api/v1/me", json={"language": "en"}, headers=headers)
    assert r.status_code == 200
    sent = peers.last("UpdateProfile")
    assert sent.request.HasField("language") and not sent.request.HasField("full_name")
    assert sent.metadata["authorization"] == headers["Authorization"]
    sessions = (await client.get("/api/v1/me/sessions", headers=headers)).json()["items"]
    assert sessions[0]["current"] and sessions[0]["last_used_at"] is None and sessions[0]["method"] == "otp"
    assert (await client.delete("/api/v1/me/sessions/s-2", headers=headers)).status_code == 204
    assert peers.last("RevokeSession").request.session_id == "s-2"
    assert (await client.post("/api/v1/me/sessions/revoke-others", headers=headers)).json() == {"revoked": 2}
    assert (await client.get("/api/v1/me/export", headers=headers)).json() == {"account": {"id": "u-1"}}
    assert (await client.post("/api/v1/me/delete", json={"password": "p"}, headers=headers)).status_code == 204
    r = await client.post("/api/v1/me/identity-verification", headers=headers, json={
        "personal_id": "079090001234", "full_name": "An", "birth_date": "1990-05-17", "sex": "male"})
    assert r.json()["assurance_level"] == 2 and peers.last("VerifyIdentity").request.sex == "male"


async def test_me_routes_need_a_token(client):
    for method, path in (("get", "/api/v1/me/sessions"), ("post", "/api/v1/me/sessions/revoke-others"),
                         ("get", "/api/v1/me/export"), ("get", "/api/v1/audit"), ("get", "/api/v1/staff")):
        r = await client.request(method, path)
        assert (r.status_code, r.json()["code"]) == (401, "auth_required"), path


async def test_staff_routes(client, peers, bearer):
    headers = bearer(role="agency_admin", agency="ubnd_26743")
    r = await client.post("/api/v1/staff", headers=headers, json={
        "phone": "0912000311", "full_name": "Đỗ Văn Giang", "role": "officer", "agency_code": "ubnd_26743"})
    assert r.status_code == 201 and r.json()["disabled"] is False and r.json()["role"] == "officer"
    page = (await client.get("/api/v1/staff", params={"limit": 10}, headers=headers)).json()
    assert page["next_cursor"] == "c-2" and page["items"][0]["disabled"] is True
    assert peers.last("ListStaff").request.page.limit == 10
    assert (await client.post("/api/v1/staff/u-9/disable", headers=headers)).json()["disabled"] is True
    r = await client.get("/api/v1/users/u-1/contact", params={"reason": "report r-1"}, headers=headers)
    assert r.json()["phone"] == "+84901234567" and peers.last("GetUserContact").request.reason == "report r-1"
    items = (await client.get("/api/v1/audit", params={"action": "contact_read"}, headers=headers)).json()["items"]
    assert items[0]["detail"] == {"reason": "r"} and peers.last("ListAuditLog").request.action == "contact_read"
    assert (await client.post("/api/v1/signing-keys/rotate", headers=headers)).json() == {
        "kid": "k-2", "retired_kid": "k-1"}


async def test_staff_role_is_limited_at_the_edge(client, bearer):
    r = await client.post("/api/v1/staff", headers=bearer(role="operator"), json={
        "phone": "0912000311", "full_name": "X", "role": "operator"})
    assert r.status_code == 400



async def test_token_endpoint_reads_basic_or_form_credentials(client, peers):
    basic = {"Authorization": "Basic " + base64.b64encode(b"cli_1:s%3Acret").decode()}
    r = await client.post("/api/v1/auth/token", headers=basic,
                          data={"grant_type": "client_credentials", "scope": "reports:read"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert r.json() == {"access_token": "at-c", "token_type": "Bearer", "expires_in": 900, "scope": "reports:read"}
    sent = peers.last("IssueClientToken").request
    assert (sent.client_id, sent.client_secret, sent.client_ip) == ("cli_1", "s:cret", "127.0.0.1")
    await client.post("/api/v1/auth/token", data={"grant_type": "client_credentials", "client_id": "cli_2",
                                                   "client_secret": "x y"})
    assert (peers.last("IssueClientToken").request.client_id, peers.last("IssueClientToken").request.client_secret) \
        == ("cli_2", "x y")


async def test_token_endpoint_refuses_other_grants_and_bad_basic(client):
    r = await client.post("/api/v1/auth/token", data={"grant_type": "password"})
    assert (r.status_code, r.json()["code"]) == (400, "unsupported_grant_type")
    r = await client.post("/api/v1/auth/token", headers={"Authorization": "Basic !!!"},
                          data={"grant_type": "client_credentials"})
    assert (r.status_code, r.json()["code"]) == (400, "invalid_request")


async def test_client_creation_shows_the_secrets_once(client, peers, bearer):
    r = await client.post("/api/v1/clients", headers=bearer(role="operator"),
                          json={"name": "Hệ thống", "scopes": ["open311:submit"]})
    assert r.status_code == 201
    assert (r.json()["client_secret"], r.json()["api_key"], r.json()["client"]["scopes"]) == (
        "cds_cs_x", "cds_ak_y", ["open311:submit"])
    r = await client.post("/api/v1/clients", headers=bearer(role="operator"), json={"name": "X", "scopes": ["root"]})
    assert r.status_code == 400

"""The authorisation matrix: every role x every endpoint of /openapi.json, allowed or denied, against the
whole running system. Denied = 403, or 401 for missing/invalid credentials; anything else (2xx, 400, 404,
409 ...) means the role got past authorisation. Requests are built to be harmless (stale versions,
unknown ids, far-future days, fresh codes) so that the order of the cases does not matter."""

from __future__ import annotations

import base64
import io
import re
import uuid
from dataclasses import dataclass, field

import orjson
import pytest
import pytest_asyncio
from PIL import Image

from tests.e2e.conftest import CITIZEN, OFFICER, OPERATOR, poll
from tests.e2e.photos import with_photo

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

AGENCY_ADMIN = {"phone": "0938765432", "password": "quantri-demo-2025"}
AUDITOR = {"phone": "0978123456", "password": "kiemtoan-demo-2025"}
LOGINS = {"citizen": CITIZEN, "officer": OFFICER, "agency_admin": AGENCY_ADMIN, "operator": OPERATOR,
          "auditor": AUDITOR}
ROLES = ("anonymous", "citizen", "officer", "agency_admin", "operator", "auditor", "client")
ALL = frozenset(ROLES)
SIGNED_IN = ALL - {"anonymous"}
PEOPLE = SIGNED_IN - {"client"}
FOLLOWERS = frozenset({"citizen", "officer", "agency_admin", "operator"})
STAFF = frozenset({"officer", "agency_admin", "operator", "auditor"})
AUTHN_CODES = {"auth_required", "token_invalid", "token_expired"}
MISSING = "01900000-0000-7000-8000-000000000000"
FAR_DAY = "2099-12-31"
DUMPING = {"kind": "incident", "category_code": "illegal_dumping",
           "description": "Đổ xà bần trái phép ở đầu hẻm, cần xử lý gấp",
           "location": {"latitude": 10.7725, "longitude": 106.6980, "ward_code": "26743", "address": "Hẻm 12"}}


@dataclass(frozen=True)
class Case:
    """One endpoint call: method, path template (filled from the fixtures), what it sends, who may."""

    method: str
    path: str
    allowed: frozenset[str]
    json: object = None
    params: dict = field(default_factory=dict)
    data: dict | None = None
    content: bytes | None = None
    fresh_token: bool = False   # the call ends the session (logout): use a token of its own
    # 404 codes that mean "you have no account here" (an integration client logging out): a denial.
    no_account: frozenset[str] = frozenset()
    stream: bool = False        # server-sent events: read the status line only


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def cases(ids: dict[str, str]) -> list[Case]:
    """The matrix; `ids` fills {report}, {comment_report}, {client_id} ... in paths."""
    unique = uuid.uuid4().hex[:8]
    return [
        # ops and Open311 reads: public
        Case("GET", "/healthz", ALL), Case("GET", "/readyz", ALL), Case("GET", "/metrics", ALL),
        Case("GET", "/.well-known/jwks.json", ALL),
        Case("GET", "/open311/v2/discovery.json", ALL), Case("GET", "/open311/v2/services.json", ALL),
        Case("GET", "/open311/v2/services/flooding.xml", ALL), Case("GET", "/open311/v2/requests.json", ALL),
        Case("GET", "/open311/v2/requests/{report}.json", ALL), Case("GET", "/open311/v2/tokens/{report}.json", ALL),
        Case("GET", "/open311/v2/servicerequestupdates.json", ALL),
        # Open311 writes: the api_key decides, not a bearer token
        Case("POST", "/open311/v2/requests.json", ALL, data={"service_code": "flooding", "api_key": "wrong"}),
        Case("POST", "/open311/v2/servicerequestupdates.json", ALL,
             data={"service_request_id": "{report}", "status": "maybe"}),
        # auth: public by nature
        Case("POST", "/api/v1/auth/register", ALL, json={"phone": "0901234567", "password": "x" * 12,
                                                        "full_name": "Ai Đó"}),
        Case("POST", "/api/v1/auth/verify", ALL, json={"phone": "0909999999", "code": "000000"}),
        Case("POST", "/api/v1/auth/otp", ALL, json={"phone": "0909999998", "purpose": "login"}),
        Case("POST", "/api/v1/auth/otp/login", ALL, json={"phone": "0909999999", "code": "000000"}),
        Case("POST", "/api/v1/auth/password/reset", ALL, json={"phone": "0909999999", "code": "000000",
                                                              "new_password": "y" * 12}),
        Case("POST", "/api/v1/auth/login", ALL, json={"phone": "0909999999", "password": "z" * 12}),
        Case("POST", "/api/v1/auth/refresh", ALL, json={"refresh_token": "rt_not_a_token"}),
        Case("POST", "/api/v1/auth/token", ALL, data={"grant_type": "client_credentials", "client_id": "cli_x",
                                                     "client_secret": "nope"}),
        Case("POST", "/api/v1/auth/logout", PEOPLE, fresh_token=True, no_account=frozenset({"session_not_found"})),
        # catalogue
        Case("GET", "/api/v1/categories", ALL), Case("GET", "/api/v1/categories/flooding", ALL),
        Case("PUT", f"/api/v1/categories/authz_{unique}", frozenset({"operator"}), json={
            "name": {"vi": "Thử quyền", "en": "Authz probe"}, "kind": "feedback", "group": "authz", "active": False}),
        Case("GET", "/api/v1/wards", ALL), Case("GET", "/api/v1/agencies", ALL),
        Case("GET", "/api/v1/agencies/ubnd_26743", ALL),
        Case("POST", "/api/v1/agencies", frozenset({"operator"}), json={
            "code": f"authz_{unique}", "name": {"vi": "Thử", "en": "Probe"}, "kind": "department",
            "parent_code": "ioc", "ward_code": "", "active": False}),
        Case("PUT", f"/api/v1/agencies/authz_{unique}", frozenset({"operator"}), json={
            "name": {"vi": "Thử", "en": "Probe"}, "kind": "department", "parent_code": "ioc", "ward_code": "",
            "active": False}),
        # reports
        Case("GET", "/api/v1/reports", ALL), Case("GET", "/api/v1/reports/{report}", ALL),
        Case("GET", "/api/v1/reports/nearby", ALL, params={"lat": "10.7725", "lon": "106.698"}),
        # staff (and the agency's own system, acting as its officer) close a duplicate into its parent;
        # the first allowed role merges, later ones get 409
        Case("POST", "/api/v1/reports/{duplicate}/merge", frozenset({"officer", "agency_admin", "operator", "client"}),
             json={"parent_id": "{report}"}),
        # citizens file; an integration client files through Open311 (scope open311:submit)
        Case("POST", "/api/v1/reports", frozenset({"citizen", "client"}), json={**DUMPING, "kind": "feedback",
                                                                                "category_code": "nope"}),
        # the agency's people acknowledge (the officer does; later ones get 409 invalid_transition)
        Case("POST", "/api/v1/reports/{report}/transitions", frozenset({"officer", "agency_admin", "client"}),
             json={"action": "acknowledge"}),
        Case("GET", "/api/v1/agency/queue", STAFF),
        Case("GET", "/api/v1/reports/{report}/comments", ALL),
        Case("POST", "/api/v1/reports/{report}/comments", SIGNED_IN - {"auditor"}, json={"body": "Cảm ơn, đã ghi nhận."}),
        Case("PUT", "/api/v1/reports/{report}/follow", FOLLOWERS),
        Case("DELETE", "/api/v1/reports/{report}/follow", FOLLOWERS),
        Case("POST", "/api/v1/reports/{resolved}/rating", frozenset({"citizen"}), json={"stars": 5}),
        Case("GET", "/api/v1/stats", ALL, params={"from": "2026-01-01"}),
        Case("POST", "/api/v1/media", SIGNED_IN - {"auditor"}, content=png()),
        Case("GET", "/api/v1/media/{missing}", ALL),
        # routing
        Case("GET", "/api/v1/routing/rules", STAFF), Case("PUT", "/api/v1/routing/rules/authz-missing-rule",
                                                          frozenset({"operator"}), json={
            "expected_version": 7, "kind": "feedback", "category_group": "authz", "agency_code": "ioc",
            "enabled": False}),
        Case("GET", "/api/v1/routing/explain", STAFF, params={"kind": "incident", "category_code": "flooding",
                                                             "ward_code": "26743"}),
        Case("GET", "/api/v1/routing/calendar", ALL, params={"year": "2026"}),
        Case("PUT", f"/api/v1/routing/calendar/{FAR_DAY}", frozenset({"operator"}), json={"working": True}),
        Case("DELETE", f"/api/v1/routing/calendar/{FAR_DAY}", frozenset({"operator"})),
        Case("GET", "/api/v1/reports/{report}/assignment", STAFF),
        Case("POST", "/api/v1/reports/{missing}/transfer", frozenset({"officer", "agency_admin", "operator"}),
             json={"to_agency_code": "ctmt", "reason": "Không thuộc thẩm quyền"}),
        # me, preferences, notifications
        # an integration client has no account: the gateway answers 403 role_not_allowed (not identity's 404)
        Case("GET", "/api/v1/me", PEOPLE), Case("PATCH", "/api/v1/me", PEOPLE, json={}),
        Case("GET", "/api/v1/me/sessions", PEOPLE),
        Case("DELETE", "/api/v1/me/sessions/{missing}", PEOPLE),
        Case("POST", "/api/v1/me/sessions/revoke-others", PEOPLE),
        Case("GET", "/api/v1/me/export", PEOPLE),
        Case("POST", "/api/v1/me/delete", frozenset({"citizen"}), json={"password": "wrong-password"}),
        # (staff accounts are closed by their managers, not deleted by themselves)
        # identity does not limit this to citizens (staff reach the registry check too)
        Case("POST", "/api/v1/me/identity-verification", PEOPLE, json={
            "personal_id": "079090009999", "full_name": "Không Có", "birth_date": "1990-01-01", "sex": "male"}),
        # preferences, inbox and live events are keyed by the token's subject: a client has its own
        Case("GET", "/api/v1/me/preferences", SIGNED_IN), Case("PUT", "/api/v1/me/preferences", SIGNED_IN, json={}),
        Case("GET", "/api/v1/notifications", SIGNED_IN), Case("POST", "/api/v1/notifications/read", SIGNED_IN,
                                                              json={"all": True}),
        Case("GET", "/api/v1/notifications/unread-count", SIGNED_IN),
        Case("GET", "/api/v1/notifications/{missing}/deliveries", SIGNED_IN),  # ownership is checked after lookup
        Case("GET", "/api/v1/events", SIGNED_IN, stream=True),
        Case("GET", "/api/v1/announcements", ALL),
        Case("POST", "/api/v1/announcements", frozenset({"agency_admin", "operator"}), json={
            "title": {"vi": "Thử quyền", "en": "Authz probe"}, "body": {"vi": "Nội dung thử.", "en": "Probe."},
            "urgent": False, "ward_codes": ["26743"]}),
        # staff, audit, keys, clients, webhooks
        Case("POST", "/api/v1/staff", frozenset({"agency_admin", "operator"}), json={
            "phone": "not-a-phone", "full_name": "Thử", "role": "officer", "agency_code": "ubnd_26743"}),
        Case("GET", "/api/v1/staff", frozenset({"agency_admin", "operator", "auditor"})),
        Case("POST", "/api/v1/staff/{missing}/disable", frozenset({"agency_admin", "operator"})),
        Case("GET", "/api/v1/users/{missing}/contact", frozenset({"officer", "agency_admin", "operator"}),
             params={"reason": "Xác minh phản ánh"}),
        Case("GET", "/api/v1/audit", frozenset({"operator", "auditor"})),
        Case("POST", "/api/v1/signing-keys/rotate", frozenset({"operator"}), json={}),
        Case("GET", "/api/v1/clients", frozenset({"agency_admin", "operator"})),
        Case("POST", "/api/v1/clients", frozenset({"agency_admin", "operator"}), json={
            "name": "Thử", "scopes": ["reports:read"], "agency_code": "ubnd_26743"}),
        Case("POST", "/api/v1/clients/cli_missing/rotate-secret", frozenset({"agency_admin", "operator"})),
        Case("POST", "/api/v1/clients/cli_missing/disable", frozenset({"agency_admin", "operator"})),
        Case("GET", "/api/v1/webhooks", frozenset({"agency_admin", "operator", "client"})),
        Case("POST", "/api/v1/webhooks", frozenset({"agency_admin", "operator", "client"}), json={
            "url": "http://127.0.0.1/not-public", "event_types": ["reports.v1.report_status_changed"]}),
        Case("DELETE", "/api/v1/webhooks/{missing}", frozenset({"agency_admin", "operator", "client"})),
        Case("GET", "/api/v1/webhooks/{missing}/deliveries", frozenset({"agency_admin", "operator", "client"})),
        Case("POST", "/api/v1/webhooks/deliveries/{missing}/redeliver", frozenset({"agency_admin", "operator",
                                                                                  "client"})),
    ]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(system) -> dict:  # noqa: ANN001
    """A signed-in header per role (client: an integration client of ubnd_26743) and a real report id."""
    headers = {"anonymous": {}}
    for role, creds in LOGINS.items():
        headers[role] = await system.token(creds)
    created = await system.http.post("/api/v1/clients", headers=headers["agency_admin"], json={
        "name": "Hệ thống một cửa (authz)", "agency_code": "ubnd_26743",
        "scopes": ["reports:read", "reports:write", "open311:submit", "webhooks:manage"]})
    assert created.status_code == 201, created.text
    basic = base64.b64encode(f"{created.json()['client']['id']}:{created.json()['client_secret']}".encode()).decode()
    token = await system.http.post("/api/v1/auth/token", headers={"Authorization": f"Basic {basic}"},
                                   data={"grant_type": "client_credentials"})
    assert token.status_code == 200, token.text
    headers["client"] = {"Authorization": f"Bearer {token.json()['access_token']}"}
    report_id = await assigned_report(system, headers)
    resolved, duplicate = await resolved_report(system, headers), await assigned_report(system, headers)
    return {"headers": headers, "ids": {"report": report_id, "resolved": resolved, "duplicate": duplicate,
                                        "missing": MISSING}}


async def assigned_report(system, headers: dict) -> str:  # noqa: ANN001
    """A citizen's report routed to ubnd_26743 (with a photo: illegal_dumping is photo_required)."""
    body = await with_photo(system, headers["citizen"], DUMPING)
    r = await system.http.post("/api/v1/reports", json=body, headers=headers["citizen"])
    assert r.status_code == 201, r.text
    rid = r.json()["id"]

    async def assigned():
        return (await system.http.get(f"/api/v1/reports/{rid}")).json()["status"] == "assigned"

    await poll(assigned)
    return rid


async def resolved_report(system, headers: dict) -> str:  # noqa: ANN001
    """A citizen's report the officer has resolved (it can be rated)."""
    rid = await assigned_report(system, headers)
    for body in ({"action": "acknowledge"}, {"action": "resolve", "note": "Đã thu gom xà bần."}):
        done = await system.http.post(f"/api/v1/reports/{rid}/transitions", json=body, headers=headers["officer"])
        assert done.status_code == 200, done.text
    return rid


async def headers_for(system, world: dict, role: str, case: Case) -> dict[str, str]:  # noqa: ANN001
    """The role's Authorization header (a fresh session when the call ends it)."""
    if case.fresh_token and role in LOGINS:
        return await system.token(LOGINS[role])
    return world["headers"][role]


async def call(system, case: Case, headers: dict[str, str], ids: dict[str, str]) -> tuple[int, str]:  # noqa: ANN001
    """Send one case; (status, problem code or "")."""
    path = case.path.format(**ids)
    data = {k: v.format(**ids) for k, v in case.data.items()} if case.data else None
    body = orjson.loads(orjson.dumps(case.json).decode().replace("{report}", ids["report"])) if case.json else case.json
    kwargs = dict(headers=headers, params=case.params, json=body, data=data, content=case.content)
    if case.content is not None:
        kwargs["headers"] = {**headers, "Content-Type": "image/png"}
    if case.stream:
        async with system.http.stream(case.method, path, **kwargs) as r:
            status, body = r.status_code, (await r.aread() if r.status_code != 200 else b"")
    else:
        r = await system.http.request(case.method, path, **kwargs)
        status, body = r.status_code, r.content
    code = orjson.loads(body).get("code", "") if status >= 400 and body.startswith(b"{") else ""
    return status, code


def denied(case: Case, status: int, code: str) -> bool:
    """403, or 401 because credentials are missing or not valid (a wrong OTP or password is not a denial)."""
    return status == 403 or (status == 401 and code in AUTHN_CODES) or (status == 404 and code in case.no_account)


async def test_every_role_on_every_endpoint(system, world):
    table, wrong = [], []
    for case in cases(world["ids"]):
        row = []
        for role in ROLES:
            status, code = await call(system, case, await headers_for(system, world, role, case), world["ids"])
            assert status < 500, (case.method, case.path, role, status, code)
            row.append(f"{role}={status}{':' + code if code else ''}")
            if denied(case, status, code) == (role in case.allowed):
                wrong.append(f"{case.method} {case.path} {role}: {status} {code}")
        table.append(f"{case.method} {case.path}: " + " ".join(row))
    assert not wrong, "\n".join(wrong) + "\n\nobserved:\n" + "\n".join(table)


async def test_the_matrix_covers_every_operation_of_the_openapi_document(system):
    schema = (await system.http.get("/openapi.json")).json()
    ids = {"report": "r", "resolved": "r", "duplicate": "r", "missing": MISSING}
    concrete = [(c.method, c.path.format(**ids)) for c in cases(ids)]
    missing = []
    for template, item in schema["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        for method in item:
            if not any(m == method.upper() and pattern.match(p) for m, p in concrete):
                missing.append(f"{method.upper()} {template}")
    assert not missing, "add these operations to the matrix: " + ", ".join(missing)


async def test_an_integration_client_on_me_gets_403_problem_not_404(system, world):
    for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/me/sessions"), ("GET", "/api/v1/me/export")):
        r = await system.http.request(method, path, headers={**world["headers"]["client"], "Accept-Language": "en"})
        assert r.status_code == 403, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "role_not_allowed" and r.json()["title"] == "Forbidden"

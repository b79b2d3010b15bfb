"""Staff accounts, audited contact reads and level-2 identity verification over HTTP against the
whole system (the registry CSV goes in through the real import command)."""

from __future__ import annotations

import asyncio
import base64
import sys

import jwt
import pytest

from servicekit.supervisor import child_env
from tests.e2e.conftest import CITIZEN, OFFICER, OPERATOR
from tests.e2e.conftest import bearer, signed_up, sms_code, sms_count

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
AGENCY_ADMIN = {"phone": "0938765432", "password": "quantri-demo-2025"}  # ubnd_26743
AUDITOR = {"phone": "0978123456", "password": "kiemtoan-demo-2025"}


async def test_agency_admin_creates_officers_of_its_own_agency_only(system):
    admin = await system.token(AGENCY_ADMIN)
    body = {"phone": "0912000311", "full_name": "Đỗ Văn Giang", "role": "officer", "agency_code": "ubnd_26743"}
    r = await system.http.post("/api/v1/staff", json=body, headers=admin)
    assert r.status_code == 201, r.text
    officer = r.json()
    assert (officer["role"], officer["agency_code"], officer["assurance_level"], officer["disabled"]) == (
        "officer", "ubnd_26743", 0, False)
    other = await system.http.post("/api/v1/staff", json={**body, "phone": "0912000312", "agency_code": "thoatnuoc"},
                                   headers=admin)
    assert (other.status_code, other.json()["code"]) == (403, "staff_not_allowed")
    admin_of_admin = await system.http.post("/api/v1/staff", json={**body, "phone": "0912000313",
                                                                   "role": "agency_admin"}, headers=admin)
    assert admin_of_admin.json()["code"] == "staff_not_allowed"
    citizen = await system.http.post("/api/v1/staff", json={**body, "phone": "0912000314"},
                                     headers=await system.token(CITIZEN))
    assert (citizen.status_code, citizen.json()["code"]) == (403, "role_not_allowed")
    listed = (await system.http.get("/api/v1/staff", params={"agency_code": "thoatnuoc"}, headers=admin)).json()
    assert {u["agency_code"] for u in listed["items"]} == {"ubnd_26743"}  # own agency, whatever is asked
    assert officer["id"] in {u["id"] for u in listed["items"]}

    # the new officer's first log-in is by SMS code, which verifies the phone
    before = sms_count(system)
    assert (await system.http.post("/api/v1/auth/otp", json={"phone": "0912000311", "purpose": "login"})
            ).status_code == 202
    tokens = (await system.http.post("/api/v1/auth/otp/login", json={
        "phone": "0912000311", "code": await sms_code(system, "+84912000311", after=before)})).json()
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert (claims["role"], claims["agency"], claims["acr"]) == ("officer", "ubnd_26743", 1)

    r = await system.http.post(f"/api/v1/staff/{officer['id']}/disable", headers=admin)
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert (await system.http.post("/api/v1/auth/refresh", json={
        "refresh_token": tokens["refresh_token"]})).status_code == 401
    audit = (await system.http.get("/api/v1/audit", params={"subject_id": officer["id"]},
                                   headers=await system.token(AUDITOR))).json()["items"]
    assert {"staff_created", "staff_disabled", "login"} <= {e["action"] for e in audit}


async def test_operator_creates_agency_admins_and_auditors_but_not_operators(system):
    operator = await system.token(OPERATOR)
    r = await system.http.post("/api/v1/staff", json={"phone": "0912000321", "full_name": "Vũ Thị Hoa",
                                                       "role": "agency_admin", "agency_code": "thoatnuoc"},
                               headers=operator)
    assert r.status_code == 201 and r.json()["role"] == "agency_admin"
    r = await system.http.post("/api/v1/staff", json={"phone": "0912000322", "full_name": "Vũ Văn Ích",
                                                       "role": "operator"}, headers=operator)
    assert r.status_code == 400
    dup = await system.http.post("/api/v1/staff", json={"phone": "0912000321", "full_name": "X",
                                                         "role": "auditor"}, headers=operator)
    assert (dup.status_code, dup.json()["code"]) == (409, "phone_taken")


async def test_staff_contact_reads_are_audited_and_auditors_can_list_them(system):
    citizen_id = (await system.http.get("/api/v1/me", headers=await system.token(CITIZEN))).json()["id"]
    officer = await system.token(OFFICER)
    no_reason = await system.http.get(f"/api/v1/users/{citizen_id}/contact", headers=officer)
    assert no_reason.status_code == 400
    r = await system.http.get(f"/api/v1/users/{citizen_id}/contact", params={"reason": "phản ánh 0198 cần xác minh"},
                              headers=officer)
    assert r.status_code == 200 and r.json()["phone"] == "+84901234567"
    for who in (CITIZEN, AUDITOR):
        denied = await system.http.get(f"/api/v1/users/{citizen_id}/contact", params={"reason": "x"},
                                       headers=await system.token(who))
        assert denied.status_code == 403
    assert (await system.http.get("/api/v1/audit", headers=await system.token(CITIZEN))).status_code == 403
    for reader in (AUDITOR, OPERATOR):
        items = (await system.http.get("/api/v1/audit", params={"action": "contact_read", "subject_id": citizen_id},
                                       headers=await system.token(reader))).json()["items"]
        assert items and items[0]["actor_role"] == "officer"
        assert items[0]["detail"] == {"reason": "phản ánh 0198 cần xác minh"}


async def test_identity_verification_against_the_imported_registry(system, tmp_path):
    csv = tmp_path / "registry.csv"
    csv.write_text("personal_id,full_name,birth_date,sex\n"
                   "079090001234,Lý Thị Kim,1990-05-17,female\n"  # digit 0 = male: refused
                   "079190001234,Lý Thị Kim,1990-05-17,female\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "services.identity", "import-registry",
                                                str(csv), env=child_env(system.sup.cfg, "identity-import"),
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 1 and b"imported 1 row(s), refused 1" in out and b":2:" in err
    tokens = await signed_up(system, "0912000331", "+84912000331", name="Lý Thị Kim")
    claim = {"personal_id": "079190001234", "full_name": "LÝ THỊ KIM", "birth_date": "1990-05-17", "sex": "female"}
    wrong = await system.http.post("/api/v1/me/identity-verification", json={**claim, "birth_date": "1990-05-18"},
                                   headers=bearer(tokens))
    assert (wrong.status_code, wrong.json()["code"]) == (409, "identity_not_matched")
    malformed = await system.http.post("/api/v1/me/identity-verification", json={**claim, "sex": "male"},
                                       headers={**bearer(tokens), "Accept-Language": "en"})
    assert (malformed.status_code, malformed.json()["code"]) == (400, "personal_id_mismatch")
    assert malformed.json()["title"] == "Personal ID does not match"
    mismatch = await system.http.post("/api/v1/me/identity-verification", json={**claim, "full_name": "Lý Thị Kim Anh"},
                                      headers=bearer(tokens))
    assert (mismatch.status_code, mismatch.json()["code"]) == (409, "identity_not_matched")
    r = await system.http.post("/api/v1/me/identity-verification", json=claim, headers=bearer(tokens))
    assert r.status_code == 200 and r.json()["assurance_level"] == 2
    refreshed = (await system.http.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    assert jwt.decode(refreshed["access_token"], options={"verify_signature": False})["acr"] == 2


async def test_integration_client_credentials(system):
    admin = await system.token(AGENCY_ADMIN)
    r = await system.http.post("/api/v1/clients", headers=admin, json={
        "name": "Một cửa Bến Thành", "scopes": ["reports:read", "reports:write"], "agency_code": "ubnd_26743"})
    assert r.status_code == 201, r.text
    created = r.json()
    client_id, secret = created["client"]["id"], created["client_secret"]
    assert created["api_key"].startswith("cds_ak_")
    basic = {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}
    r = await system.http.post("/api/v1/auth/token", headers=basic,
                               data={"grant_type": "client_credentials", "scope": "reports:read"})
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    assert (r.json()["token_type"], r.json()["scope"]) == ("Bearer", "reports:read")
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert (claims["role"], claims["agency"], claims["sub"]) == ("client", "ubnd_26743", f"client:{client_id}")
    form = await system.http.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                               "client_id": client_id, "client_secret": secret})
    assert form.json()["scope"] == "reports:read reports:write"
    bad = await system.http.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                              "client_id": client_id, "client_secret": "nope"})
    assert (bad.status_code, bad.json()["code"]) == (401, "invalid_client")
    grant = await system.http.post("/api/v1/auth/token", data={"grant_type": "password"})
    assert (grant.status_code, grant.json()["code"]) == (400, "unsupported_grant_type")
    rotated = (await system.http.post(f"/api/v1/clients/{client_id}/rotate-secret", headers=admin)).json()
    assert rotated["client_secret"] != secret and rotated["api_key"] is None
    old = await system.http.post("/api/v1/auth/token", headers=basic, data={"grant_type": "client_credentials"})
    assert old.status_code == 401
    listed = (await system.http.get("/api/v1/clients", headers=admin)).json()["items"]
    assert [c["id"] for c in listed] == [client_id] and listed[0]["secret_rotated_at"]
    assert (await system.http.post(f"/api/v1/clients/{client_id}/disable", headers=admin)).json()["disabled"]
    gone = await system.http.post("/api/v1/auth/token", data={"grant_type": "client_credentials",
                                                               "client_id": client_id,
                                                               "client_secret": rotated["client_secret"]})
    assert gone.status_code == 401
    denied = await system.http.get("/api/v1/clients", headers=await system.token(OFFICER))
    assert denied.status_code == 403
    actions = {e["action"] for e in (await system.http.get("/api/v1/audit", params={"subject_id": client_id},
                                                           headers=await system.token(AUDITOR))).json()["items"]}
    assert actions >= {"client_created", "client_secret_rotated", "client_disabled", "client_auth_failed"}

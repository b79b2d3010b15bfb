"""Probes, JWKS, security headers, CORS and the OpenAPI document."""

from __future__ import annotations

import json

import pytest

ROUTES = {
    ("post", "/api/v1/auth/register"): "auth", ("post", "/api/v1/auth/login"): "auth",
    ("post", "/api/v1/auth/refresh"): "auth", ("post", "/api/v1/auth/logout"): "auth",
    ("get", "/api/v1/me"): "me", ("post", "/api/v1/reports"): "reports",
    ("get", "/api/v1/reports/{report_id}"): "reports", ("get", "/api/v1/categories"): "catalog",
    ("get", "/api/v1/wards"): "catalog", ("get", "/api/v1/agencies"): "catalog",
    ("get", "/api/v1/notifications"): "notifications", ("post", "/api/v1/notifications/read"): "notifications",
    ("get", "/healthz"): "ops", ("get", "/readyz"): "ops", ("get", "/.well-known/jwks.json"): "ops",
}


async def test_healthz(client):
    r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_readyz_when_every_backend_serves(client):
    r = await client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready",
                        "checks": {"identity": "ok", "reports": "ok", "routing": "ok", "notify": "ok"}}


async def test_readyz_when_a_backend_is_down(start_gateway, dead_backend):
    async with start_gateway(routing_grpc_addr=dead_backend) as client:
        r = await client.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "1"
    body = r.json()
    assert body["code"] == "not_ready"
    assert body["checks"]["routing"] == "unavailable"
    assert body["checks"]["identity"] == "ok"


async def test_healthz_stays_up_when_backends_are_down(start_gateway, dead_backend):
    down = dict.fromkeys(("identity_grpc_addr", "reports_grpc_addr", "routing_grpc_addr", "notify_grpc_addr"),
                         dead_backend)
    async with start_gateway(**down) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503


async def test_jwks_document(client, keys, peers):
    r = await client.get("/.well-known/jwks.json")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["cache-control"] == "public, max-age=300"
    assert r.json() == json.loads(keys.jwks())
    assert (await client.get("/.well-known/jwks.json")).json() == r.json()
    assert len(peers.calls["GetJwks"]) == 1  # served from the gateway's short cache the second time


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/wards", "/api/v1/nope", "/openapi.json"])
async def test_security_headers_and_no_server_banner(client, path):
    r = await client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "server" not in r.headers
    assert "date" in r.headers
    assert "strict-transport-security" not in r.headers


async def test_security_headers_on_413(client, bearer):
    r = await client.post("/api/v1/reports", content=b"x" * 70_000, headers={
        **bearer(), "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.headers["x-frame-options"] == "DENY" and "server" not in r.headers


async def test_hsts_only_over_https(start_gateway):
    # X-Forwarded-Proto counts only from a configured trusted proxy (GATEWAY_TRUSTED_PROXIES), like a TLS proxy.
    async with start_gateway() as client:
        r = await client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in r.headers
    async with start_gateway(trusted_proxies=["127.0.0.1"]) as client:
        r = await client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert r.headers["strict-transport-security"].startswith("max-age=")


async def test_docs_page_gets_a_csp_that_lets_swagger_load(client):
    r = await client.get("/docs")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "https://cdn.jsdelivr.net" in csp and "frame-ancestors 'none'" in csp


async def test_api_responses_are_not_cached_by_default(client):
    r = await client.get("/api/v1/categories")
    assert r.headers["cache-control"] == "no-store"


async def test_cors_only_for_configured_origins(start_gateway):
    async with start_gateway(cors_origins=["https://congdanso.example"]) as client:
        ok = await client.options("/api/v1/reports", headers={
            "Origin": "https://congdanso.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"})
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == "https://congdanso.example"
        assert ok.headers["x-content-type-options"] == "nosniff"
        other = await client.get("/api/v1/wards", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_no_cors_headers_without_configured_origins(client):
    r = await client.get("/api/v1/wards", headers={"Origin": "https://congdanso.example"})
    assert "access-control-allow-origin" not in r.headers


async def test_openapi_lists_every_route_with_its_tag(client):
    doc = (await client.get("/openapi.json")).json()
    assert doc["info"] == {"title": "congdanso API", "version": "1", "description": doc["info"]["description"]}
    found = {(method, path): op["tags"] for path, item in doc["paths"].items() for method, op in item.items()}
    assert set(ROUTES) <= set(found)  # the core routes; areas add more
    for key, tag in ROUTES.items():
        assert found[key] == [tag], key
    declared = {t["name"] for t in doc["tags"]}
    assert all(len(tags) == 1 and tags[0] in declared for tags in found.values()), found
    assert {tags[0] for tags in found.values()} == declared  # no tag declared but unused
    assert all(t.get("description") for t in doc["tags"])


async def test_openapi_documents_problems_not_422(client):
    doc = (await client.get("/openapi.json")).json()
    submit = doc["paths"]["/api/v1/reports"]["post"]["responses"]
    assert "422" not in submit
    assert set(submit["400"]["content"]) == {"application/problem+json"}
    assert set(submit["409"]["content"]) == {"application/problem+json"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert doc["paths"]["/api/v1/me"]["get"]["security"] == [{"HTTPBearer": []}]
    assert doc["paths"]["/api/v1/reports/{report_id}"]["get"]["security"] == [{"HTTPBearer": []}, {}]  # optional

"""Rate limits (per IP, per account, stricter on auth), forwarded-IP trust and Prometheus metrics."""

from __future__ import annotations

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.config import GatewaySettings

LOGIN = {"phone": "0901234567", "password": "mat-khau-rat-dai"}


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text -> {(sample name, labels): value}."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_per_ip_limit_answers_429_problem_with_retry_after(start_gateway):
    async with start_gateway(rate_ip="3/minute") as client:
        for _ in range(3):
            assert (await client.get("/api/v1/categories")).status_code == 200
        r = await client.get("/api/v1/wards", headers={"Accept-Language": "en"})
        assert r.status_code == 429 and r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "rate_limited" and r.json()["title"] == "Too many requests"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        assert (await client.get("/healthz")).status_code == 200  # probes are never limited
        assert (await client.get("/metrics")).status_code == 200


async def test_auth_endpoints_have_their_own_stricter_limit(start_gateway, peers):
    async with start_gateway(rate_auth="2/minute") as client:
        for _ in range(2):
            assert (await client.post("/api/v1/auth/login", json=LOGIN)).status_code == 200
        r = await client.post("/api/v1/auth/refresh", json={"refresh_token": "rt-1"})
        assert r.status_code == 429 and r.json()["code"] == "rate_limited" and r.headers["Retry-After"]
        assert len(peers.calls["Login"]) == 2 and "Refresh" not in peers.calls  # refused before identity
        assert (await client.get("/api/v1/categories")).status_code == 200


async def test_per_account_limit_counts_verified_subjects_only(start_gateway, bearer, keys):
    async with start_gateway(rate_account="2/minute") as client:
        forged = {"Authorization": f"Bearer {keys.token(sub='u-1', key=keys.stranger)}"}
        for _ in range(3):  # a forged token for u-1 must not spend u-1's budget
            assert (await client.get("/api/v1/me", headers=forged)).status_code == 401
        for _ in range(2):
            assert (await client.get("/api/v1/me", headers=bearer(sub="u-1"))).status_code == 200
        r = await client.get("/api/v1/me", headers=bearer(sub="u-1"))
        assert r.status_code == 429 and r.json()["code"] == "rate_limited"
        assert (await client.get("/api/v1/me", headers=bearer(sub="u-2"))).status_code == 200
        assert (await client.get("/api/v1/categories")).status_code == 200  # anonymous: only the IP limit


async def test_open311_paths_get_429_in_the_open311_errors_format(start_gateway):
    async with start_gateway(rate_ip="1/minute") as client:
        assert (await client.get("/open311/v2/discovery.xml")).status_code == 200
        r = await client.get("/open311/v2/discovery.xml")
        assert r.status_code == 429 and r.headers["content-type"].startswith("text/xml") and r.headers["Retry-After"]
        assert b"<errors><error><code>429</code>" in r.content


async def test_forwarded_for_is_trusted_only_from_configured_proxies(start_gateway, peers):
    xff = {"X-Forwarded-For": "198.51.100.7, 203.0.113.5"}
    async with start_gateway(rate_ip="1/minute") as client:  # no trusted proxy: the header is ignored
        assert (await client.post("/api/v1/auth/login", json=LOGIN, headers=xff)).status_code == 200
        assert peers.last("Login").request.client_ip == "127.0.0.1"
        r = await client.get("/api/v1/categories", headers={"X-Forwarded-For": "203.0.113.99"})
        assert r.status_code == 429  # same bucket: 127.0.0.1
    async with start_gateway(rate_ip="1/minute", trusted_proxies=["127.0.0.1", "10.0.0.0/8"]) as client:
        hops = {"X-Forwarded-For": "203.0.113.5, 10.1.2.3"}  # client, then an inner trusted proxy
        assert (await client.post("/api/v1/auth/login", json=LOGIN, headers=hops)).status_code == 200
        assert peers.last("Login").request.client_ip == "203.0.113.5"
        other = {"X-Forwarded-For": "203.0.113.6"}
        assert (await client.get("/api/v1/categories", headers=other)).status_code == 200
        assert (await client.get("/api/v1/categories", headers=hops)).status_code == 429


async def test_limits_can_be_switched_off_and_bad_limits_refused(start_gateway):
    async with start_gateway(rate_enabled=False, rate_ip="1/minute") as client:
        for _ in range(3):
            assert (await client.get("/api/v1/categories")).status_code == 200
    with pytest.raises(ValueError):
        GatewaySettings(rate_ip="many per minute")


async def test_metrics_count_rate_errors_and_latency_per_route_template(start_gateway, peers):
    peers.fail("ListWards", grpc.StatusCode.INTERNAL, "boom")
    async with start_gateway() as client:
        for rid in ("r-1", "r-2"):
            assert (await client.get(f"/api/v1/reports/{rid}")).status_code == 200
        assert (await client.get("/api/v1/wards")).status_code == 500
        assert (await client.get("/no/such/page")).status_code == 404
        r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain; version=")
    got = samples(r.text)
    report = {("method", "GET"), ("route", "/api/v1/reports/{report_id}")}
    assert got[("gateway_http_requests_total", frozenset(report | {("status", "200")}))] == 2
    assert got[("gateway_http_request_duration_seconds_count", frozenset(report))] == 2
    wards = {("method", "GET"), ("route", "/api/v1/wards"), ("status", "500")}
    assert got[("gateway_http_errors_total", frozenset(wards))] == 1
    unmatched = {("method", "GET"), ("route", "unmatched"), ("status", "404")}
    assert got[("gateway_http_requests_total", frozenset(unmatched))] == 1
    assert not any("r-1" in str(labels) for _, labels in got)  # ids never become label values

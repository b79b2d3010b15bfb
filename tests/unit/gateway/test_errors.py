"""Every failure is an RFC 9457 problem+json with a stable code, localized vi/en."""

from __future__ import annotations

import re

import grpc
import httpx
import pytest

PROBLEM = "application/problem+json"
REPORT = {"kind": "incident", "category_code": "road_pothole", "description": "Ổ gà lớn giữa đường."}


def assert_problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"https://congdanso.vn/problems/{code}"
    assert body["instance"] == r.request.url.path
    assert body["title"]
    return body


async def test_malformed_json_is_400_malformed_json(client, bearer):
    r = await client.post("/api/v1/reports", content=b'{"kind": "incident",', headers={
        **bearer(), "Content-Type": "application/json"})
    body = assert_problem(r, 400, "malformed_json")
    assert re.fullmatch(r"[0-9a-f]{32}", body["trace_id"])


async def test_validation_errors_list_each_field(client, peers, bearer):
    bad = {"kind": "complaint", "category_code": "road_pothole", "description": "",
           "location": {"latitude": 91, "longitude": 106.7}}
    r = await client.post("/api/v1/reports", json=bad, headers=bearer())
    body = assert_problem(r, 400, "validation_error")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"kind", "description", "location.latitude"}
    assert all(e["message"] for e in body["errors"])
    assert "SubmitReport" not in peers.calls


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"kind": "bank"}, {"cursor": "x" * 513}])
async def test_query_validation(client, peers, params):
    r = await client.get("/api/v1/agencies", params=params)
    body = assert_problem(r, 400, "validation_error")
    assert body["field"] == next(iter(params))
    assert "ListAgencies" not in peers.calls


async def test_idempotency_key_longer_than_128_is_rejected(client, bearer):
    r = await client.post("/api/v1/reports", json=REPORT, headers={**bearer(), "Idempotency-Key": "k" * 129})
    assert assert_problem(r, 400, "validation_error")["field"] == "Idempotency-Key"


async def test_body_over_64_kib_is_413(client, peers, bearer):
    big = {**REPORT, "description": "x" * (64 * 1024)}
    r = await client.post("/api/v1/reports", json=big, headers=bearer())
    assert_problem(r, 413, "payload_too_large")
    assert "SubmitReport" not in peers.calls


async def test_chunked_body_over_64_kib_is_413(client, peers, bearer):
    async def chunks():
        yield b'{"kind": "incident", "description": "'
        for _ in range(20):
            yield b"x" * 4096
        yield b'"}'

    r = await client.post("/api/v1/reports", content=chunks(), headers={
        **bearer(), "Content-Type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "payload_too_large")
    assert "SubmitReport" not in peers.calls


async def test_small_chunked_body_is_accepted(client, bearer):
    async def chunks():
        yield b'{"kind": "incident", "category_code": "road_pothole", '
        yield '"description": "Ổ gà lớn giữa đường."}'.encode()

    r = await client.post("/api/v1/reports", content=chunks(), headers={
        **bearer(), "Content-Type": "application/json"})
    assert r.status_code == 201, r.text


async def test_unknown_route_and_wrong_method(client):
    assert_problem(await client.get("/api/v1/nope"), 404, "not_found")
    r = await client.delete("/api/v1/categories")
    assert_problem(r, 405, "method_not_allowed")
    assert "GET" in r.headers["allow"]


async def test_grpc_not_found_keeps_the_service_code(client, peers):
    peers.fail("GetReport", grpc.StatusCode.NOT_FOUND, "no such report", code="report_not_found")
    vi = assert_problem(await client.get("/api/v1/reports/r-9"), 404, "report_not_found")
    en = assert_problem(await client.get("/api/v1/reports/r-9", headers={"Accept-Language": "en-US,en;q=0.9"}),
                        404, "report_not_found")
    assert vi["title"] == "Không tìm thấy phản ánh" and en["title"] == "Report not found"
    assert vi["detail"] != en["detail"]


async def test_accept_language_sets_content_language(client, peers):
    peers.fail("ListWards", grpc.StatusCode.UNIMPLEMENTED)
    vi = await client.get("/api/v1/wards", headers={"Accept-Language": "fr, vi;q=0.4, en;q=0.3"})
    en = await client.get("/api/v1/wards", headers={"Accept-Language": "vi;q=0.4, en-GB;q=0.8"})
    assert vi.headers["content-language"] == "vi" and en.headers["content-language"] == "en"
    assert vi.json()["title"] != en.json()["title"]
    assert (await client.get("/healthz")).headers["content-language"] == "vi"


async def test_service_message_and_field_pass_through_for_unknown_codes(client, peers, bearer):
    peers.fail("SubmitReport", grpc.StatusCode.INVALID_ARGUMENT, "no active category with this code",
               code="some_future_code", field="category_code")
    body = assert_problem(await client.post("/api/v1/reports", json=REPORT, headers=bearer()), 400, "some_future_code")
    assert body["field"] == "category_code"
    assert body["detail"] == "no active category with this code"
    assert body["title"] == "Yêu cầu không hợp lệ"


@pytest.mark.parametrize(("status", "http", "code"), [
    (grpc.StatusCode.INVALID_ARGUMENT, 400, "invalid_argument"),
    (grpc.StatusCode.UNAUTHENTICATED, 401, "unauthenticated"),
    (grpc.StatusCode.PERMISSION_DENIED, 403, "permission_denied"),
    (grpc.StatusCode.ALREADY_EXISTS, 409, "already_exists"),
    (grpc.StatusCode.FAILED_PRECONDITION, 409, "failed_precondition"),
    (grpc.StatusCode.ABORTED, 409, "aborted"),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, 429, "resource_exhausted"),
    (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "deadline_exceeded"),
    (grpc.StatusCode.UNIMPLEMENTED, 501, "unimplemented"),
    (grpc.StatusCode.INTERNAL, 500, "internal"),
    (grpc.StatusCode.UNKNOWN, 500, "internal"),
    (grpc.StatusCode.DATA_LOSS, 500, "internal"),
])
async def test_status_table(client, peers, status, http, code):
    peers.fail("ListWards", status, "secret: /var/lib/db at 10.0.0.7")
    body = assert_problem(await client.get("/api/v1/wards"), http, code)
    if http >= 500:
        assert "secret" not in body["detail"]


async def test_stopped_backend_is_503_with_retry_after(start_gateway, dead_backend):
    async with start_gateway(reports_grpc_addr=dead_backend) as client:
        r = await client.get("/api/v1/wards")
    body = assert_problem(r, 503, "unavailable")
    assert r.headers["retry-after"] == "1"
    assert "127.0.0.1" not in body["detail"]


async def test_slow_backend_hits_the_deadline(peers, start_gateway):
    peers.delays["ListWards"] = 1.0
    async with start_gateway(grpc_deadline_s=0.2) as client:
        r = await client.get("/api/v1/wards")
    assert_problem(r, 504, "deadline_exceeded")


async def test_unexpected_error_is_500_without_internals(client, peers, make_report):
    peers.replies["GetReport"] = make_report(kind=0)  # not a valid kind: the gateway cannot render it
    r = await client.get("/api/v1/reports/r-1")
    body = assert_problem(r, 500, "internal")
    assert "Traceback" not in r.text and "validation" not in r.text.lower()
    assert body["detail"] == "Đã xảy ra lỗi; vui lòng thử lại sau."
    assert r.headers["x-content-type-options"] == "nosniff"

"""Creating POSTs forward `Idempotency-Key` to their service as gRPC metadata and declare it in OpenAPI;
the services' idempotency answers come out as 409 problems. (The replay itself is the services' job:
tests/integration/servicekit/test_idempotency.py and tests/e2e/test_idempotency.py.)"""

from __future__ import annotations

import io

import grpc
import pytest
from PIL import Image

from congdanso.common.v1 import common_pb2
from congdanso.identity.v1 import identity_pb2
from congdanso.notify.v1 import notify_pb2
from congdanso.reports.v1 import reports_pb2
from congdanso.routing.v1 import routing_pb2
from tests.unit.gateway.conftest import DEFAULT_REPLIES, ts


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _assignment(req, peers) -> routing_pb2.Assignment:  # noqa: ANN001
    return routing_pb2.Assignment(report_id=req.report_id, agency_code=req.to_agency_code,
                                  agency_name=common_pb2.LocalizedText(vi="A", en="A"), assigned_at=ts(),
                                  ack_due_at=ts(), resolve_due_at=ts())


for _name, _reply in {
    "AddComment": lambda req, peers: reports_pb2.Comment(id="c-1", author_role="citizen", body=req.body,
                                                         created_at=ts()),
    "UploadMedia": lambda req, peers: reports_pb2.Media(id="m-1", content_type="image/png", width=4, height=4,
                                                        bytes=len(req.content)),
    "CreateStaff": lambda req, peers: identity_pb2.User(id="u-9", phone="+84912000311", full_name=req.full_name,
                                                        role=req.role, agency_code=req.agency_code, created_at=ts()),
    "CreateClient": lambda req, peers: identity_pb2.ClientWithSecret(
        client=identity_pb2.IntegrationClient(id="cli_1", name=req.name, scopes=list(req.scopes), created_at=ts()),
        client_secret="s3cret"),
    "CreateAgency": lambda req, peers: req,
    "TransferReport": _assignment,
    "CreateWebhook": lambda req, peers: notify_pb2.Webhook(id="w-1", url=req.url, event_types=list(req.event_types),
                                                           created_at=ts(), secret="whsec_abc"),
}.items():
    DEFAULT_REPLIES.setdefault(_name, _reply)

AGENCY = {"code": "so_tc", "name": {"vi": "Sở Tài chính", "en": "Finance"}, "kind": "department", "parent_code": "ioc"}
# (path, RPC, request keyword arguments)
CREATING = [
    ("/api/v1/reports/r-1/comments", "AddComment", {"json": {"body": "Vẫn còn ngập."}}),
    ("/api/v1/media", "UploadMedia", {"content": _png(), "headers": {"Content-Type": "image/png"}}),
    ("/api/v1/staff", "CreateStaff", {"json": {"phone": "0912000311", "full_name": "Đỗ Văn Giang", "role": "officer",
                                               "agency_code": "ubnd_26743"}}),
    ("/api/v1/clients", "CreateClient", {"json": {"name": "Một cửa", "scopes": ["reports:read"]}}),
    ("/api/v1/agencies", "CreateAgency", {"json": AGENCY}),
    ("/api/v1/reports/r-1/transfer", "TransferReport", {"json": {"to_agency_code": "ctmt",
                                                                 "reason": "Không thuộc thẩm quyền"}}),
    ("/api/v1/webhooks", "CreateWebhook", {"json": {"url": "https://x.example/hook",
                                                    "event_types": ["routing.v1.sla_warning"]}}),
]


def _send(client, bearer, path: str, kwargs: dict, key: str | None):  # noqa: ANN001, ANN202
    headers = {**bearer(role="operator"), **kwargs.get("headers", {})}
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(path, **{**kwargs, "headers": headers})


@pytest.mark.parametrize(("path", "rpc", "kwargs"), CREATING, ids=[c[1] for c in CREATING])
async def test_the_key_is_forwarded_as_metadata_and_only_when_sent(client, peers, bearer, path, rpc, kwargs):
    r = await _send(client, bearer, path, kwargs, "0f6b3c1e-key~!")
    assert r.status_code in (200, 201), r.text
    assert peers.last(rpc).metadata["idempotency-key"] == "0f6b3c1e-key~!"
    r = await _send(client, bearer, path, kwargs, None)
    assert r.status_code in (200, 201), r.text
    assert "idempotency-key" not in peers.last(rpc).metadata


@pytest.mark.parametrize("key", ["x" * 129, "with space", "ngập".encode()])
async def test_a_malformed_key_is_a_400_before_any_call(client, peers, bearer, key):
    path, rpc, kwargs = CREATING[0]
    r = await client.post(path, json=kwargs["json"], headers={**bearer(), "Idempotency-Key": key})
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    assert r.json()["field"] == "Idempotency-Key" and rpc not in peers.calls


@pytest.mark.parametrize(("code", "status", "title"), [
    ("idempotency_key_in_progress", grpc.StatusCode.ABORTED, "Request in progress"),
    ("idempotency_key_reused", grpc.StatusCode.ALREADY_EXISTS, "Idempotency-Key reused"),
])
async def test_the_services_idempotency_answers_are_409_problems(client, peers, bearer, code, status, title):
    peers.fail("AddComment", status, "busy", code=code)
    r = await client.post("/api/v1/reports/r-1/comments", json={"body": "x"},
                          headers={**bearer(), "Idempotency-Key": "k-1", "Accept-Language": "en"})
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code and r.json()["title"] == title


async def test_every_creating_post_declares_the_header_and_its_409s(client):
    schema = (await client.get("/openapi.json")).json()
    for path, _rpc, _kwargs in CREATING:
        template = path.replace("r-1", "{report_id}")
        op = schema["paths"][template]["post"]
        header = next(p for p in op["parameters"] if p["name"] == "Idempotency-Key")
        assert header["in"] == "header" and not header.get("required", False)
        assert header["schema"]["anyOf"][0]["maxLength"] == 128
        assert "idempotency_key_in_progress" in op["responses"]["409"]["description"]


async def test_an_integration_client_has_no_account_403_not_404(client, peers, bearer):
    for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/me/sessions"), ("POST", "/api/v1/me/delete")):
        r = await client.request(method, path, headers={**bearer(role="client", sub="cli_1"), "Accept-Language": "en"},
                                 json={"password": "x"} if method == "POST" else None)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json", r.text
        assert r.json()["code"] == "role_not_allowed"
    assert "GetMe" not in peers.calls
    assert (await client.get("/api/v1/me", headers=bearer())).status_code == 200

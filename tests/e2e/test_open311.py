"""Open311 GeoReport v2 conformance over HTTP against the whole system: every endpoint, both formats,
every filter and every error (the `errors` document with 400 / 403 / 404)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
import pytest_asyncio

from tests.e2e.conftest import CITIZEN, poll

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

AGENCY_ADMIN = {"phone": "0938765432", "password": "quantri-demo-2025"}
V2 = "/open311/v2"
POINT = {"lat": "10.7725", "long": "106.6980", "ward_code": "26743", "address_string": "Hẻm 12 Lê Thánh Tôn"}
DUMPING = "Có người đổ xà bần trái phép ở đầu hẻm từ tối qua"
TEXT = "Nước ngập sâu trước chợ Bến Thành sau cơn mưa chiều"
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url",
                  "extended_attributes"]


async def get(system, path: str, fmt: str = "json", **params):  # noqa: ANN001, ANN201
    """GET an Open311 document; (status, JSON value or XML root element)."""
    r = await system.http.get(f"{V2}/{path}.{fmt}", params=params)
    if fmt == "xml":
        assert r.headers["content-type"].startswith("text/xml"), r.text
        return r.status_code, ET.fromstring(r.content)
    assert r.headers["content-type"].startswith("application/json"), r.text
    return r.status_code, r.json()


async def post(system, path: str, fmt: str = "json", **form):  # noqa: ANN001, ANN201
    r = await system.http.post(f"{V2}/{path}.{fmt}", data=form)
    return r.status_code, (ET.fromstring(r.content) if fmt == "xml" else r.json())


def json_error(status: int, body) -> None:  # noqa: ANN001
    assert isinstance(body, list) and len(body) == 1 and body[0]["code"] == status and body[0]["description"]


def xml_error(status: int, root: ET.Element) -> None:
    assert root.tag == "errors" and root.find("error/code").text == str(status) and root.find("error/description").text


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api_key(system) -> str:  # noqa: ANN001
    """The Open311 api_key of an integration client of ubnd_26743 (phường Bến Thành)."""
    r = await system.http.post("/api/v1/clients", headers=await system.token(AGENCY_ADMIN), json={
        "name": "Hệ thống một cửa phường Bến Thành", "scopes": ["open311:submit", "reports:write", "reports:read"],
        "agency_code": "ubnd_26743"})
    assert r.status_code == 201, r.text
    return r.json()["api_key"]


async def submitted(system, api_key: str, code: str = "illegal_dumping", **extra) -> str:  # noqa: ANN001
    """POST requests and wait until routing assigned it; its service_request_id.

    Illegal dumping in phường Bến Thành goes to the ward's People's Committee, the client's agency.
    """
    status, body = await post(system, "requests", api_key=api_key, service_code=code, description=DUMPING,
                              **POINT, **extra)
    assert status == 201, body
    rid = body[0]["service_request_id"]

    async def assigned():
        _, doc = await get(system, f"requests/{rid}")
        return doc[0]["extended_attributes"]["detailed_status"] == "assigned" and doc[0]

    await poll(assigned)
    return rid


async def test_discovery_in_both_formats(system):
    status, doc = await get(system, "discovery")
    assert status == 200 and doc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert doc["endpoints"][0]["url"].endswith("/open311/v2") and "text/xml" in doc["endpoints"][0]["formats"]
    assert doc["changeset"] and doc["contact"] and doc["key_service"]
    status, root = await get(system, "discovery", "xml")
    assert status == 200 and root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == ["application/json", "text/xml"]


async def test_services_list_and_definitions(system):
    status, services = await get(system, "services", jurisdiction_id="hochiminhcity.gov.vn")
    assert status == 200
    by_code = {s["service_code"]: s for s in services}
    flooding = by_code["flooding"]
    assert list(flooding) == ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
    assert (flooding["metadata"], flooding["type"], flooding["group"]) == (True, "realtime", "drainage")
    assert flooding["service_name"] == "Ngập nước" and flooding["keywords"] == "incident"
    assert any(s["metadata"] is False for s in services)
    english = (await system.http.get(f"{V2}/services.json", headers={"Accept-Language": "en"})).json()
    assert {s["service_code"]: s["service_name"] for s in english}["flooding"] == "Flooding"

    status, root = await get(system, "services", "xml")
    assert status == 200 and root.tag == "services"
    codes = {s.find("service_code").text: s for s in root.findall("service")}
    assert codes["flooding"].find("metadata").text == "true" and len(codes) == len(services)

    status, definition = await get(system, "services/flooding")
    assert status == 200 and definition["service_code"] == "flooding"
    depth, passable = definition["attributes"]
    assert (depth["code"], depth["datatype"], depth["order"], depth["variable"]) == ("water_depth_cm", "number", 1, True)
    assert depth["required"] is False and depth["description"] == "Độ sâu nước ước tính (cm)"
    assert passable["datatype"] == "singlevaluelist" and [v["key"] for v in passable["values"]] == ["yes", "hard", "no"]
    status, root = await get(system, "services/illegal_dumping", "xml")
    assert status == 200 and root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute.find("datatype").text == "multivaluelist"
    assert [v.find("key").text for v in attribute.findall("values/value")] == ["household", "construction", "hazardous"]


async def test_unknown_things_are_404_in_both_formats(system):
    for path in ("services/no_such_service", "requests/no-such-request", "tokens/no-such-token", "nothing_here"):
        status, body = await get(system, path)
        assert status == 404, path
        json_error(404, body)
        status, root = await get(system, path, "xml")
        assert status == 404, path
        xml_error(404, root)


async def test_an_unknown_format_is_400(system):
    r = await system.http.get(f"{V2}/services.csv")
    assert r.status_code == 400 and r.json()[0]["code"] == 400


async def test_post_request_errors(system, api_key):
    base = dict(service_code="flooding", description=TEXT, **POINT)
    for fmt in ("json", "xml"):
        check = json_error if fmt == "json" else xml_error
        status, body = await post(system, "requests", fmt, **base)
        assert status == 403
        check(403, body)
        status, body = await post(system, "requests", fmt, **base, api_key="not-a-key")
        assert status == 403
        check(403, body)
        status, body = await post(system, "requests", fmt, **{**base, "service_code": ""}, api_key=api_key)
        assert status == 400
        check(400, body)
        status, body = await post(system, "requests", fmt, api_key=api_key, service_code="flooding", description=TEXT)
        assert status == 400  # no location at all
        check(400, body)
        status, body = await post(system, "requests", fmt, **{**base, "service_code": "no_such_service"},
                                  api_key=api_key)
        assert status == 404
        check(404, body)
        status, body = await post(system, "requests", fmt, **{**base, "lat": "north"}, api_key=api_key)
        assert status == 400
        check(400, body)


async def test_create_lookup_and_read_back_in_both_formats(system, api_key):
    status, body = await post(system, "requests", "xml", api_key=api_key, service_code="illegal_dumping",
                              description="Đổ xà bần và rác sinh hoạt trái phép ở đầu hẻm",
                              **{**POINT, "attribute[waste_types][]": ["household", "construction"]})
    assert status == 201 and body.tag == "service_requests"
    rid = body.find("request/service_request_id").text
    status, created = await post(system, "requests", api_key=api_key, service_code="flooding", description=TEXT,
                                 **POINT, **{"attribute[water_depth_cm]": "40", "attribute[passable]": "hard"})
    assert status == 201 and list(created[0]) == ["service_request_id", "service_notice", "account_id"]
    flood_id = created[0]["service_request_id"]

    status, tokens = await get(system, f"tokens/{flood_id}")
    assert status == 200 and tokens == [{"service_request_id": flood_id, "token": flood_id}]
    status, root = await get(system, f"tokens/{rid}", "xml")
    assert root.find("request/service_request_id").text == rid and root.find("request/token").text == rid

    status, doc = await get(system, f"requests/{flood_id}")
    assert status == 200 and isinstance(doc, list) and len(doc) == 1
    one = doc[0]
    assert list(one) == REQUEST_FIELDS
    assert (one["status"], one["service_code"], one["service_name"], one["description"]) == (
        "open", "flooding", "Ngập nước", TEXT)
    assert (one["lat"], one["long"], one["address"]) == (10.7725, 106.698, "Hẻm 12 Lê Thánh Tôn")
    assert datetime.fromisoformat(one["requested_datetime"]).utcoffset() == timedelta(hours=7)
    assert {a["code"]: a["value"] for a in one["extended_attributes"]["report_attributes"]} == {
        "passable": "hard", "water_depth_cm": "40"}
    status, root = await get(system, f"requests/{rid}", "xml")
    request = root.find("request")
    assert root.tag == "service_requests" and request.find("status").text == "open"
    values = {a.find("code").text: a.find("value").text
              for a in request.findall("extended_attributes/report_attributes/attribute")}
    assert values == {"waste_types": "household,construction"}


async def test_list_requests_filters(system, api_key):
    dumping = await submitted(system, api_key)
    pothole = await submitted(system, api_key, "road_pothole", **{"attribute[size]": "large"})
    status, listed = await get(system, "requests")
    ids = [r["service_request_id"] for r in listed]
    assert status == 200 and ids.index(pothole) < ids.index(dumping)  # newest first

    status, only = await get(system, "requests", service_request_id=f"{dumping},{pothole}", service_code="nothing",
                             status="closed")
    assert sorted(r["service_request_id"] for r in only) == sorted([dumping, pothole])  # other params ignored
    _, by_code = await get(system, "requests", service_code="road_pothole")
    assert pothole in {r["service_request_id"] for r in by_code} and {r["service_code"] for r in by_code} == {"road_pothole"}
    _, two_codes = await get(system, "requests", service_code="road_pothole,illegal_dumping")
    assert {dumping, pothole} <= {r["service_request_id"] for r in two_codes}

    _, opened = await get(system, "requests", status="open")
    _, closed = await get(system, "requests", status="closed")
    _, both = await get(system, "requests", status="open,closed")
    assert dumping in {r["service_request_id"] for r in opened} and not {r["status"] for r in closed} - {"closed"}
    assert len(both) == len(opened) + len(closed)

    now = datetime.now(UTC)
    _, future = await get(system, "requests", start_date=(now + timedelta(days=1)).isoformat())
    _, past = await get(system, "requests", end_date=(now - timedelta(days=1)).isoformat())
    _, window = await get(system, "requests", start_date=(now - timedelta(hours=1)).isoformat(),
                          end_date=(now + timedelta(hours=1)).isoformat(), jurisdiction_id="hochiminhcity.gov.vn")
    assert future == [] and past == [] and dumping in {r["service_request_id"] for r in window}
    _, old = await get(system, "requests", end_date=(now - timedelta(days=100)).isoformat())
    assert old == []  # the default window is the 90 days before end_date

    _, first = await get(system, "requests", page="1", page_size="1")
    _, second = await get(system, "requests", page="2", page_size="1")
    assert len(first) == len(second) == 1 and first[0]["service_request_id"] == ids[0]
    assert second[0]["service_request_id"] == ids[1]

    _, inside = await get(system, "requests", bbox="106.69,10.77,106.71,10.78")
    _, outside = await get(system, "requests", bbox="106.60,10.70,106.61,10.71")
    assert dumping in {r["service_request_id"] for r in inside} and outside == []

    status, root = await get(system, "requests", "xml", service_code="road_pothole")
    assert status == 200 and pothole in {r.find("service_request_id").text for r in root.findall("request")}


async def test_list_requests_bad_parameters_are_400(system):
    for params in ({"start_date": "yesterday"}, {"end_date": "2026-13-45"}, {"status": "pending"},
                   {"start_date": "2026-02-01T00:00:00+07:00", "end_date": "2026-01-01T00:00:00+07:00"},
                   {"page": "0"}, {"page_size": "1001"}, {"page": "20", "page_size": "1000"},
                   {"bbox": "1,2,3"}, {"bbox": "106.7,10.8,106.6,10.7"}, {"service_code": "BAD CODE"},
                   {"service_request_id": "a b"}):
        status, body = await get(system, "requests", **params)
        assert status == 400, params
        json_error(400, body)
        status, root = await get(system, "requests", "xml", **params)
        assert status == 400, params
        xml_error(400, root)


async def test_agency_posts_updates_and_everyone_reads_them(system, api_key):
    since = datetime.now(UTC) - timedelta(seconds=1)
    rid = await submitted(system, api_key)
    status, body = await post(system, "servicerequestupdates", api_key=api_key, service_request_id=rid,
                              status="open", description="Đã tiếp nhận, tổ công tác đang đến hiện trường")
    assert status == 201, body
    assert body[0]["service_request_id"] == rid and body[0]["status"] == "open"
    assert body[0]["extended_attributes"]["detailed_status"] == "in_progress"
    status, body = await post(system, "servicerequestupdates", api_key=api_key, service_request_id=rid,
                              status="closed")
    assert status == 400  # resolving needs a note
    json_error(400, body)
    status, root = await post(system, "servicerequestupdates", "xml", api_key=api_key, service_request_id=rid,
                              status="closed", description="Đã nạo vét cống, nước đã rút")
    assert status == 201 and root.find("request_update/update_id").text
    _, doc = await get(system, f"requests/{rid}")
    assert doc[0]["status"] == "open" and doc[0]["extended_attributes"]["detailed_status"] == "resolved"
    assert doc[0]["status_notes"].endswith("Đã nạo vét cống, nước đã rút")

    other = await submitted(system, api_key)
    status, body = await post(system, "servicerequestupdates", api_key=api_key, service_request_id=other,
                              status="closed", action="reject", reason="duplicate", description="Trùng phản ánh")
    assert status == 201 and body[0]["status"] == "closed"
    _, doc = await get(system, f"requests/{other}")
    assert doc[0]["status"] == "closed" and "duplicate" in doc[0]["status_notes"]
    _, closed = await get(system, "requests", status="closed")
    assert other in {r["service_request_id"] for r in closed}

    status, updates = await get(system, "servicerequestupdates", start_date=since.isoformat())
    mine = [u for u in updates if u["service_request_id"] == rid]
    assert status == 200 and [u["extended_attributes"]["action"] for u in mine][-2:] == ["acknowledge", "resolve"]
    assert list(mine[-1])[:6] == ["update_id", "service_request_id", "status", "updated_datetime", "description",
                                  "media_url"]
    status, root = await get(system, "servicerequestupdates", "xml", start_date=since.isoformat(), limit="2")
    assert status == 200 and root.tag == "service_request_updates" and len(root.findall("request_update")) == 2
    _, none_yet = await get(system, "servicerequestupdates", start_date=(since - timedelta(hours=2)).isoformat(),
                            end_date=(since - timedelta(hours=1)).isoformat())
    assert none_yet == []


async def test_update_errors(system, api_key):
    rid = await submitted(system, api_key)
    for fmt in ("json", "xml"):
        check = json_error if fmt == "json" else xml_error
        for form, expected in (({"service_request_id": rid, "status": "open"}, 403),
                               ({"service_request_id": rid, "status": "open", "api_key": "wrong"}, 403),
                               ({"service_request_id": rid, "status": "maybe", "api_key": api_key}, 400),
                               ({"service_request_id": "", "status": "open", "api_key": api_key}, 400),
                               ({"service_request_id": rid, "status": "open", "action": "resolve",
                                 "api_key": api_key}, 400),
                               ({"service_request_id": "no-such", "status": "open", "api_key": api_key}, 404)):
            status, body = await post(system, "servicerequestupdates", fmt, **form)
            assert status == expected, (form, body)
            check(expected, body)
    status, body = await get(system, "servicerequestupdates", start_date="not-a-date")
    assert status == 400
    json_error(400, body)


async def test_a_citizen_token_is_no_api_key_and_private_reports_stay_hidden(system):
    citizen = await system.token(CITIZEN)
    r = await system.http.post("/api/v1/reports", headers=citizen, json={
        "kind": "feedback", "category_code": "feedback_officer_attitude", "visibility": "private",
        "description": "Góp ý riêng về thái độ phục vụ tại bộ phận một cửa"})
    assert r.status_code == 201, r.text
    status, body = await get(system, f"requests/{r.json()['id']}")
    assert status == 404
    json_error(404, body)
    status, body = await post(system, "requests", api_key=citizen["Authorization"].split()[1],
                              service_code="flooding", description=TEXT, **POINT)
    assert status == 403
    json_error(403, body)

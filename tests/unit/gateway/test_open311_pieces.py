"""Open311 building blocks: status mapping, XML shape, parameter parsing, and errors when a backend is down."""

from __future__ import annotations

from datetime import timedelta

import pytest

from congdanso.reports.v1 import reports_pb2
from gateway.open311 import convert, params, render
from servicekit.errors import InvalidArgument


@pytest.mark.parametrize(("status", "expected"), [
    ("SUBMITTED", "open"), ("ASSIGNED", "open"), ("IN_PROGRESS", "open"), ("RESOLVED", "open"),
    ("CLOSED", "closed"), ("REJECTED", "closed"), ("WITHDRAWN", "closed")])
def test_every_detailed_state_maps_to_open_or_closed(status, expected):
    assert convert.open_closed(reports_pb2.ReportStatus.Value(f"REPORT_STATUS_{status}")) == expected


def test_xml_names_list_items_as_the_spec_does():
    body = render.to_xml("service_definition", {"service_code": "flooding", "attributes": [
        {"code": "passable", "required": False, "values": [{"key": "yes", "name": "Đi được"}]}],
        "zipcode": None})
    assert body == ("<?xml version='1.0' encoding='utf-8'?>\n<service_definition><service_code>flooding"
                    "</service_code><attributes><attribute><code>passable</code><required>false</required>"
                    "<values><value><key>yes</key><name>Đi được</name></value></values></attribute></attributes>"
                    "<zipcode /></service_definition>").encode()
    assert render.to_xml("errors", [{"code": 404, "description": "x"}]).endswith(
        b"<errors><error><code>404</code><description>x</description></error></errors>")


def test_dates_accept_an_offset_whose_plus_arrived_as_a_space_and_default_to_city_time():
    assert params.when("2026-11-01T08:00:00 07:00", "start_date").utcoffset() == timedelta(hours=7)
    assert params.when("2026-11-01", "start_date").utcoffset() == timedelta(hours=7)
    assert params.when("2026-11-01T01:00:00Z", "start_date").utcoffset() == timedelta(0)
    for bad in ("1 Nov 2026", "0001-01-01", "9999-12-31T23:59:59-01:00"):
        with pytest.raises(InvalidArgument):
            params.when(bad, "start_date")


def test_default_window_is_ninety_days_before_the_end():
    span = params.window("", "2026-11-01T00:00:00+07:00")
    assert span.end - span.start == timedelta(days=90)


def test_bbox_is_west_south_east_north():
    assert params.bbox("106.6,10.7,106.8,10.9") == (10.7, 106.6, 10.9, 106.8)
    for bad in ("106.6,10.7,106.8", "a,b,c,d", "106.8,10.7,106.6,10.9", "200,0,201,1"):
        with pytest.raises(InvalidArgument):
            params.bbox(bad)


def test_attributes_single_and_multi_values():
    form = params.form("attribute[depth]=40&attribute[kinds][]=a&attribute[kinds][]=b&attribute[empty]=".encode())
    assert params.attributes(form) == {"depth": "40", "kinds": "a,b"}
    with pytest.raises(InvalidArgument):
        params.attributes(params.form(b"attribute[bad code]=1"))


async def test_a_backend_that_is_down_is_503_with_retry_after_in_the_open311_format(start_gateway, dead_backend):
    async with start_gateway(reports_grpc_addr=dead_backend, grpc_deadline_s=1.0) as client:
        r = await client.get("/open311/v2/services.xml")
        assert r.status_code == 503 and r.headers["Retry-After"] and r.headers["content-type"].startswith("text/xml")
        assert b"<errors><error><code>503</code>" in r.content
        r = await client.get("/open311/v2/requests.json")
        assert r.status_code == 503 and r.json()[0]["code"] == 503


async def test_unknown_route_and_wrong_method_are_open311_errors(client):
    r = await client.get("/open311/v2/nothing.xml")
    assert r.status_code == 404 and b"<code>404</code>" in r.content
    r = await client.delete("/open311/v2/services.json")
    assert r.status_code == 405 and r.json()[0]["code"] == 405 and r.headers["Allow"] == "GET"

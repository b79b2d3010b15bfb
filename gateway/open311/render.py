"""Open311 bodies as JSON or XML: one document shape, two serialisations, and the `errors` format."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import orjson
from starlette.responses import Response

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The spec's XML names the element of each list item after its parent (GeoReport v2 examples).
ITEM_TAGS = {"services": "service", "service_requests": "request", "attributes": "attribute", "values": "value",
             "endpoints": "endpoint", "formats": "format", "errors": "error", "service_request_updates":
             "request_update", "report_attributes": "attribute"}


def format_of(path: str) -> str:
    """"xml" when the URL ends in .xml, else "json" (errors use the format the caller asked for)."""
    return "xml" if path.endswith(".xml") else "json"


def _scalar(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    """Write a JSON-like value into an element: dicts as children, lists as repeated item elements."""
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item_tag), child)
    else:
        element.text = _scalar(value)


def to_xml(root: str, data: Any) -> bytes:
    """`data` under a root element named as in the spec, with an XML declaration."""
    element = ET.Element(root)
    _fill(element, data)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def respond(fmt: str, root: str, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A 200 (or `status`) answer in the asked format; `root` names the XML document element."""
    body = to_xml(root, data) if fmt == "xml" else orjson.dumps(data)
    return Response(body, status_code=status, media_type=FORMATS[fmt], headers=headers)


def errors(fmt: str, status: int, description: str, headers: dict[str, str] | None = None) -> Response:
    """The Open311 error document: [{"code": status, "description": ...}]."""
    return respond(fmt, "errors", [{"code": status, "description": description}], status, headers)

"""OpenAPI document: our 400 problem replaces FastAPI's 422, and errors use application/problem+json."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from gateway.errors import MEDIA_TYPE
from gateway.open311 import PREFIX as OPEN311_PREFIX

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
TAGS = [
    {"name": "auth", "description": "Register, sign in, refresh and end sessions."},
    {"name": "me", "description": "The signed-in account."},
    {"name": "reports", "description": "Incidents, feedback and proposals filed by residents."},
    {"name": "catalog", "description": "Categories, wards and agencies."},
    {"name": "routing", "description": "Agencies, routing rules, the working calendar, assignments and transfers."},
    {"name": "notifications", "description": "The inbox, delivery log and live events."},
    {"name": "preferences", "description": "How and when a person is told about things."},
    {"name": "announcements", "description": "Messages from the city to everyone or to some wards."},
    {"name": "webhooks", "description": "Signed event callbacks for agencies' own systems."},
    {"name": "staff", "description": "Staff accounts of agencies and the operations centre."},
    {"name": "clients", "description": "Integration clients (OAuth2 client credentials)."},
    {"name": "open311", "description": "Open311 GeoReport v2 (JSON and XML) with the servicerequestupdates "
                                       "extension; errors in the Open311 `errors` format."},
    {"name": "ops", "description": "Health, readiness and the public signing keys."},
]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {MEDIA_TYPE: {"schema": PROBLEM_REF}}}


def _fix_operation(op: dict[str, Any]) -> None:
    """Swap 422 for 400, move problem schemas to problem+json, document a default problem."""
    responses = op.setdefault("responses", {})
    had_validation = responses.pop("422", None) is not None
    if had_validation or op.get("parameters") or op.get("requestBody"):
        responses.setdefault("400", _problem("validation_error / malformed_json"))
    for status, response in responses.items():
        content = response.get("content", {})
        if status != "default" and int(status) >= 400 and "application/json" in content:
            response["content"] = {MEDIA_TYPE: content.pop("application/json")}
    responses.setdefault("default", _problem("Any other failure (see `code`)"))


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document, built once and cached on the app."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes, tags=TAGS)
    for path, path_item in schema.get("paths", {}).items():
        if path.startswith(OPEN311_PREFIX + "/"):
            continue  # Open311 answers in its own `errors` format, documented on each operation
        for op in path_item.values():
            _fix_operation(op)
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    app.openapi_schema = schema
    return schema

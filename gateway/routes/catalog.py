"""Reference data: report categories and wards (ReportsService); agencies are in routes/routing.py."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from congdanso.reports.v1 import reports_pb2
from gateway.clients import Backends, backends
from gateway.protoconv import LocalizedText, enum_out, text

router = APIRouter(prefix="/api/v1", tags=["catalog"])
BackendsDep = Annotated[Backends, Depends(backends)]


class CategoryOut(BaseModel):
    """A category residents can file under."""

    code: str = Field(examples=["road_pothole"])
    name: LocalizedText
    kind: Literal["incident", "feedback", "proposal"]
    group: str = Field(examples=["roads"])
    active: bool
    photo_required: bool


class CategoryList(BaseModel):
    """The category catalogue."""

    items: list[CategoryOut]


class WardOut(BaseModel):
    """One of the 168 commune-level units of Ho Chi Minh City."""

    code: str = Field(examples=["26734"])
    name: str = Field(examples=["Phường Sài Gòn"])
    division_type: str = Field(examples=["phường"])


class WardList(BaseModel):
    """All wards, communes and the special zone."""

    items: list[WardOut]


@router.get("/categories")
async def list_categories(clients: BackendsDep, include_inactive: bool = False) -> CategoryList:
    """The report categories (active ones unless asked otherwise)."""
    reply = await clients.call(clients.reports.ListCategories,
                               reports_pb2.ListCategoriesRequest(include_inactive=include_inactive))
    return CategoryList(items=[CategoryOut(
        code=c.code, name=text(c.name), kind=enum_out(reports_pb2.ReportKind, "REPORT_KIND_", c.kind),
        group=c.group, active=c.active, photo_required=c.photo_required) for c in reply.categories])


@router.get("/wards")
async def list_wards(clients: BackendsDep) -> WardList:
    """The commune-level units of Ho Chi Minh City."""
    reply = await clients.call(clients.reports.ListWards, reports_pb2.ListWardsRequest())
    return WardList(items=[WardOut(code=w.code, name=w.name, division_type=w.division_type) for w in reply.wards])

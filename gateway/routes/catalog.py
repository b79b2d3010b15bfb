"""Reference data: report categories (with their extra fields) and wards (ReportsService);
agencies are in routes/routing.py."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from congdanso.common.v1 import common_pb2
from congdanso.reports.v1 import reports_pb2
from gateway.auth import CurrentPrincipal
from gateway.clients import Backends, backends
from gateway.errors import Problem
from gateway.protoconv import LocalizedText, enum_in, enum_out, text

router = APIRouter(prefix="/api/v1", tags=["catalog"])
BackendsDep = Annotated[Backends, Depends(backends)]
Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]
CODE = r"^[a-z][a-z0-9_]{1,59}$"


class AttributeValueModel(BaseModel):
    key: str = Field(max_length=40, examples=["hard"])
    name: LocalizedText


class AttributeModel(BaseModel):
    """A typed extra field of a category (the Open311 attribute model)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", examples=["passable"])
    datatype: Datatype
    required: bool = False
    order: int = Field(default=0, ge=0, le=100)
    variable: bool = True
    description: LocalizedText = LocalizedText(vi="", en="")
    values: list[AttributeValueModel] = Field(default=[], max_length=50)


class CategoryOut(BaseModel):
    """A category residents can file under."""

    code: str = Field(examples=["road_pothole"])
    name: LocalizedText
    kind: Literal["incident", "feedback", "proposal"]
    group: str = Field(examples=["roads"])
    active: bool
    photo_required: bool
    urgent: bool = False
    description: LocalizedText = LocalizedText(vi="", en="")
    attributes: list[AttributeModel] = []


class CategoryIn(BaseModel):
    """A category as operators define it."""

    name: LocalizedText
    kind: Literal["incident", "feedback", "proposal"]
    group: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$", examples=["roads"])
    active: bool = True
    photo_required: bool = False
    urgent: bool = False
    description: LocalizedText = LocalizedText(vi="", en="")
    attributes: list[AttributeModel] = Field(default=[], max_length=20)


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


def _lt(value: LocalizedText) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(vi=value.vi, en=value.en)


def category_out(c: reports_pb2.Category) -> CategoryOut:
    """Category proto -> JSON."""
    return CategoryOut(
        code=c.code, name=text(c.name), kind=enum_out(reports_pb2.ReportKind, "REPORT_KIND_", c.kind),
        group=c.group, active=c.active, photo_required=c.photo_required, urgent=c.urgent,
        description=text(c.description),
        attributes=[AttributeModel(code=a.code, datatype=a.datatype, required=a.required, order=a.order,
                                   variable=a.variable, description=text(a.description),
                                   values=[AttributeValueModel(key=v.key, name=text(v.name)) for v in a.values])
                    for a in c.attributes])


@router.get("/categories")
async def list_categories(clients: BackendsDep, include_inactive: bool = False) -> CategoryList:
    """The report categories (active ones unless asked otherwise)."""
    reply = await clients.call(clients.reports.ListCategories,
                               reports_pb2.ListCategoriesRequest(include_inactive=include_inactive))
    return CategoryList(items=[category_out(c) for c in reply.categories])


@router.get("/categories/{code}", responses={400: {"model": Problem, "description": "unknown_category"}})
async def get_category(code: Annotated[str, Path(pattern=CODE)], clients: BackendsDep) -> CategoryOut:
    """One category with the extra fields a report in it asks for."""
    return category_out(await clients.call(clients.reports.GetCategory, reports_pb2.GetCategoryRequest(code=code)))


@router.put("/categories/{code}", responses={403: {"model": Problem}})
async def put_category(code: Annotated[str, Path(pattern=CODE)], body: CategoryIn, caller: CurrentPrincipal,
                       clients: BackendsDep) -> CategoryOut:
    """Create or replace a category (operators)."""
    category = reports_pb2.Category(
        code=code, name=_lt(body.name), kind=enum_in(reports_pb2.ReportKind, "REPORT_KIND_", body.kind),
        group=body.group, active=body.active, photo_required=body.photo_required, urgent=body.urgent,
        description=_lt(body.description),
        attributes=[reports_pb2.CategoryAttribute(
            code=a.code, datatype=a.datatype, required=a.required, order=a.order, variable=a.variable,
            description=_lt(a.description),
            values=[reports_pb2.AttributeValue(key=v.key, name=_lt(v.name)) for v in a.values])
            for a in body.attributes])
    reply = await clients.call(clients.reports.UpsertCategory, reports_pb2.UpsertCategoryRequest(category=category),
                               token=caller.token)
    return category_out(reply)


@router.get("/wards")
async def list_wards(clients: BackendsDep) -> WardList:
    """The commune-level units of Ho Chi Minh City."""
    reply = await clients.call(clients.reports.ListWards, reports_pb2.ListWardsRequest())
    return WardList(items=[WardOut(code=w.code, name=w.name, division_type=w.division_type) for w in reply.wards])

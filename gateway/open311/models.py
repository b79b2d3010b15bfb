"""Open311 GeoReport v2 documents (field names and order as in the specification)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Service(BaseModel):
    """One entry of GET services: a category residents can report under."""

    service_code: str = Field(examples=["road_pothole"])
    service_name: str = Field(examples=["Ổ gà, hư hỏng mặt đường"])
    description: str
    metadata: bool = Field(description="true when GET services/{code} lists attributes")
    type: str = Field(default="realtime", examples=["realtime"])
    keywords: str = Field(examples=["incident"])
    group: str = Field(examples=["roads"])


class AttributeValue(BaseModel):
    """One choice of a list attribute."""

    key: str
    name: str


class Attribute(BaseModel):
    """An extra field of a service definition."""

    variable: bool
    code: str
    datatype: str = Field(examples=["singlevaluelist"])
    required: bool
    datatype_description: str = ""
    order: int
    description: str
    values: list[AttributeValue] = Field(default_factory=list)


class ServiceDefinition(BaseModel):
    """GET services/{code}: the attributes a request of this service takes."""

    service_code: str
    attributes: list[Attribute]


class ServiceRequest(BaseModel):
    """One report as Open311 shows it; our detailed state is in `extended_attributes`."""

    service_request_id: str
    status: str = Field(examples=["open"], description="open | closed")
    status_notes: str | None = None
    service_name: str
    service_code: str
    description: str
    agency_responsible: str | None = None
    service_notice: str | None = None
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str | None = None
    address: str | None = None
    address_id: str | None = None
    zipcode: str | None = None
    lat: float | None = None
    long: float | None = None
    media_url: str | None = None
    extended_attributes: dict = Field(default_factory=dict)


class RequestCreated(BaseModel):
    """POST requests answer (one element array in the document)."""

    service_request_id: str
    service_notice: str = ""
    account_id: str | None = None


class TokenLookup(BaseModel):
    """GET tokens/{token}: the request the token became."""

    service_request_id: str
    token: str


class RequestUpdate(BaseModel):
    """One entry of the servicerequestupdates extension."""

    update_id: str
    service_request_id: str
    status: str
    updated_datetime: str
    description: str
    media_url: str | None = None
    extended_attributes: dict = Field(default_factory=dict)

"""Request and response models of the pipelines routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class SegmentPublic(BaseModel):
    id: uuid.UUID
    dataset_id: uuid.UUID
    code: str
    start_code: str
    end_code: str
    category: str
    round: bool
    diameter_mm: float | None
    width_mm: float | None
    height_mm: float | None
    material: str | None
    pressure: str | None
    voltage: str | None
    laying: str | None
    ducts: int | None
    owner: str | None
    construction_year: int | None
    survey_date: str | None
    start_depth: float | None
    end_depth: float | None
    length_m: float
    district: str | None
    attributes: dict[str, Any]
    coordinates: list[list[float]] = Field(
        description="[[lon, lat, centreline height (Yellow Sea 1985)], …], EPSG:4490")


class SegmentList(BaseModel):
    total: int
    length_m: float
    items: list[SegmentPublic]


class PointPublic(BaseModel):
    id: uuid.UUID
    dataset_id: uuid.UUID
    code: str
    category: str | None
    feature: str
    ground_elevation: float | None
    depth: float | None
    manhole_size_m: float | None
    owner: str | None
    district: str | None
    attributes: dict[str, Any]
    coordinates: list[float] = Field(description="[lon, lat, ground height (Yellow Sea 1985)], EPSG:4490")


class PointList(BaseModel):
    total: int
    items: list[PointPublic]


class ReadingOut(BaseModel):
    measured_at: datetime
    value: float


class DevicePublic(BaseModel):
    id: uuid.UUID
    code: str
    kind: str
    state: str
    unit: str
    organization_id: uuid.UUID
    dataset_id: uuid.UUID
    segment_code: str | None
    point_code: str | None
    last_reading_at: datetime | None
    readings: list[ReadingOut] = Field(description="Latest readings, newest first")


class DeviceList(BaseModel):
    items: list[DevicePublic]


class DeviceCreate(BaseModel):
    code: str = Field(min_length=1, max_length=100)
    kind: str
    dataset_id: uuid.UUID
    segment_code: str | None = Field(default=None, max_length=200)
    point_code: str | None = Field(default=None, max_length=100)
    unit: str = Field(default="", max_length=20)
    state: str = "active"
    organization_id: uuid.UUID | None = None


class DeviceUpdate(BaseModel):
    state: str


class SegmentDetail(SegmentPublic):
    devices: list[DevicePublic]


class DeviceTokenCreate(BaseModel):
    organization_id: uuid.UUID
    name: str = Field(min_length=1, max_length=200)


class DeviceTokenCreated(BaseModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    name: str
    token: str = Field(description="Shown once: send it as X-Device-Token when posting readings")


class ReadingIn(BaseModel):
    device: str = Field(min_length=1, max_length=100)
    value: float = Field(allow_inf_nan=False, strict=True)
    measured_at: datetime | None = None


class ReadingsIn(BaseModel):
    readings: list[ReadingIn] = Field(min_length=1, max_length=1000)


class ReadingsStored(BaseModel):
    stored: int


class SegmentBrief(BaseModel):
    id: uuid.UUID
    dataset_id: uuid.UUID
    code: str
    category: str
    owner: str | None


class ViolationOut(BaseModel):
    kind: str = Field(description="horizontal or vertical")
    required_m: float
    distance_m: float = Field(description="Outer wall to outer wall (negative: the pipes overlap)")
    lon: float
    lat: float
    segment_a: SegmentBrief
    segment_b: SegmentBrief


class HeritagePassOut(BaseModel):
    segment: SegmentBrief
    building_id: uuid.UUID
    building_code: str
    building_name: str
    length_m: float


class ClearanceReport(BaseModel):
    rules_source: str
    violations: list[ViolationOut]
    heritage: list[HeritagePassOut]


class RulePublic(BaseModel):
    group_a: str
    group_b: str
    horizontal_m: float
    vertical_m: float
    default: bool


class RuleList(BaseModel):
    source: str
    rules: list[RulePublic]


class RuleUpdate(BaseModel):
    horizontal_m: float = Field(ge=0, le=20, strict=True)
    vertical_m: float = Field(ge=0, le=10, strict=True)


class RateOut(BaseModel):
    unit: str
    category: str
    monitored_m: float
    total_m: float
    rate: float


class MonitoringReport(BaseModel):
    definition: str
    target: float
    target_is_default: bool
    on_track: bool
    city: RateOut
    categories: list[RateOut]
    districts: list[RateOut]


class TargetUpdate(BaseModel):
    unit: str = "city"
    share: float = Field(ge=0, le=1, strict=True)


class TargetOut(BaseModel):
    unit: str
    share: float


class RatePoint(BaseModel):
    taken_at: datetime
    monitored_m: float
    total_m: float
    rate: float
    trigger: str


class RateHistory(BaseModel):
    unit: str
    category: str
    target: float
    points: list[RatePoint]


class RefreshQueued(BaseModel):
    job_id: uuid.UUID
    href: str

"""Facades over HTTP: request and response bodies (every route answers one of these).

Colours come as exactly one of ``hex`` (#RRGGBB, sRGB), ``lab`` ([L, a, b], CIELAB D65) or ``munsell``
(``5YR 7/2``, ``N8``); answers carry every notation and the Munsell reading. Geometries are GeoJSON in
``crs`` on input (default EPSG:4490; e.g. EPSG:4546), EPSG:4490 lon/lat on output.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from cim_platform.facades.models import StreetStatus
from cim_platform.facades.palette import ColourUse, Outcome, Rule, Zone

GeoJSONGeometry = dict[str, Any]
Year = Field(ge=2000, le=2100)


class ColourIn(BaseModel):
    hex: str | None = Field(default=None, max_length=16, examples=["#E6DCC8"])
    lab: tuple[float, float, float] | None = None
    munsell: str | None = Field(default=None, max_length=40, examples=["5YR 7/2"])


class FacadeColourIn(ColourIn):
    use: ColourUse
    share: float = Field(ge=0, le=100, description="percent of the facade area")
    label: str | None = Field(default=None, max_length=200)


class MunsellOut(BaseModel):
    notation: str
    hue: float | None
    family: str
    value: float
    chroma: float
    in_renotation_domain: bool


class ColourOut(BaseModel):
    given_as: str
    given: str
    hex: str | None
    lab: tuple[float, float, float] | None
    xyY: tuple[float, float, float] | None
    munsell: MunsellOut
    high_chroma: bool
    note: str | None


class FacadeColourOut(ColourOut):
    use: ColourUse
    share: float
    label: str | None = None


class FindingOut(BaseModel):
    outcome: Outcome
    rule: Rule
    message: str
    colour: str | None = None
    munsell: str | None = None
    limit: float | None = None
    actual: float | None = None
    index: int | None = None


class CheckOut(BaseModel):
    outcome: Outcome
    zone: Zone
    findings: list[FindingOut]


class CheckRequest(BaseModel):
    zone: Zone = Zone.old_town
    colours: list[FacadeColourIn] = Field(max_length=50)


class CheckAnswer(BaseModel):
    colours: list[FacadeColourOut]
    check: CheckOut


class RulesFields(BaseModel):
    main_max_chroma_warm: float | None = Field(default=None, ge=0, le=50)
    warm_families: list[str] | None = Field(default=None, max_length=10)
    main_max_chroma_other: float | None = Field(default=None, ge=0, le=50)
    max_chroma: float | None = Field(default=None, ge=0, le=50)
    accent_max_share: float | None = Field(default=None, ge=0, le=100)
    main_min_value: float | None = Field(default=None, ge=0, le=10)
    main_max_value: float | None = Field(default=None, ge=0, le=10)
    main_chroma_severity: Outcome | None = None
    max_chroma_severity: Outcome | None = None
    accent_share_severity: Outcome | None = None
    main_value_severity: Outcome | None = None


class RulesOut(BaseModel):
    zone: Zone
    changed: bool = Field(description="false: the issue's defaults")
    main_max_chroma_warm: float
    warm_families: list[str]
    main_max_chroma_other: float
    max_chroma: float
    accent_max_share: float
    main_min_value: float
    main_max_value: float
    main_chroma_severity: Outcome
    max_chroma_severity: Outcome
    accent_share_severity: Outcome
    main_value_severity: Outcome


class RulesList(BaseModel):
    zones: list[RulesOut]


class UnitOut(BaseModel):
    code: str
    slug: str
    name: str
    name_zh: str
    district_code: str
    default_target: int


class UnitList(BaseModel):
    units: list[UnitOut]


class TargetIn(BaseModel):
    target: int = Field(ge=0, le=1000)
    note: str = Field(default="", max_length=2000)


class TargetRow(BaseModel):
    unit: UnitOut
    year: int
    target: int
    target_is_default: bool
    accepted: int
    under_way: int
    candidates: int
    year_over: bool
    state: str = Field(description="on_track or behind")


class TargetReport(BaseModel):
    year: int
    as_of: date
    units: list[TargetRow]


class StreetCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)
    district: str = Field(max_length=40, description="district or banner: slug or code")
    town: str | None = Field(default=None, max_length=40, description="e.g. altan-xire (a unit of its own)")
    zone: Zone = Zone.old_town
    year: int = Year
    note: str = Field(default="", max_length=4000)
    crs: str = Field(default="EPSG:4490", max_length=2000)
    geometry: GeoJSONGeometry


class StreetUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    district: str | None = Field(default=None, max_length=40)
    town: str | None = Field(default=None, max_length=40)
    zone: Zone | None = None
    year: int | None = Field(default=None, ge=2000, le=2100)
    note: str | None = Field(default=None, max_length=4000)
    crs: str = Field(default="EPSG:4490", max_length=2000)
    geometry: GeoJSONGeometry | None = None


class StreetStatusChange(BaseModel):
    status: StreetStatus
    acceptance_document: str | None = Field(default=None, max_length=300)
    accepted_on: date | None = None


class StreetOut(BaseModel):
    id: uuid.UUID
    version: int
    code: str
    name: str
    district_code: str
    town_code: str | None
    unit_code: str
    zone: Zone
    year: int
    status: StreetStatus
    acceptance_document: str | None
    accepted_on: date | None
    length_m: float | None
    note: str
    geometry: GeoJSONGeometry | None
    created_at: datetime
    updated_at: datetime


class StreetList(BaseModel):
    total: int
    items: list[StreetOut]

"""Facades over HTTP: request and response bodies (every route answers one of these).

Colours come as exactly one of ``hex`` (#RRGGBB, sRGB), ``lab`` ([L, a, b], CIELAB D65) or ``munsell``
(``5YR 7/2``, ``N8``); answers carry every notation and the Munsell reading. Geometries are GeoJSON in
``crs`` on input (default EPSG:4490; e.g. EPSG:4546), EPSG:4490 lon/lat on output.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, StrictFloat, StrictInt

from cim_platform.facades.models import MeasureKind, Orientation, PhotoStage, ProjectStatus, StreetStatus
from cim_platform.facades.palette import ColourUse, Outcome, Rule, Zone

GeoJSONGeometry = dict[str, Any]
MAX_COLOURS = 12
"""Colours of one facade (a few in practice); each new colour costs up to a second to read."""
Year = Field(ge=2000, le=2100)


class ErrorBody(BaseModel):
    error: str
    detail: str
    params: dict[str, Any] | None = None


class ColourIn(BaseModel):
    hex: str | None = Field(default=None, max_length=16, examples=["#E6DCC8"])
    lab: tuple[StrictFloat, StrictFloat, StrictFloat] | None = None
    munsell: str | None = Field(default=None, max_length=40, examples=["5YR 7/2"])


class FacadeColourIn(ColourIn):
    use: ColourUse
    share: StrictFloat = Field(ge=0, le=100, description="percent of the facade area")
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
    colours: list[FacadeColourIn] = Field(max_length=MAX_COLOURS)


class CheckAnswer(BaseModel):
    colours: list[FacadeColourOut]
    check: CheckOut


class RulesFields(BaseModel):
    main_max_chroma_warm: StrictFloat | None = Field(default=None, ge=0, le=50)
    warm_families: list[str] | None = Field(default=None, max_length=10)
    main_max_chroma_other: StrictFloat | None = Field(default=None, ge=0, le=50)
    max_chroma: StrictFloat | None = Field(default=None, ge=0, le=50)
    accent_max_share: StrictFloat | None = Field(default=None, ge=0, le=100)
    main_min_value: StrictFloat | None = Field(default=None, ge=0, le=10)
    main_max_value: StrictFloat | None = Field(default=None, ge=0, le=10)
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
    target: StrictInt = Field(ge=0, le=1000)
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
    year: StrictInt = Year
    note: str = Field(default="", max_length=4000)
    crs: str = Field(default="EPSG:4490", max_length=2000)
    geometry: GeoJSONGeometry


class StreetUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    district: str | None = Field(default=None, max_length=40)
    town: str | None = Field(default=None, max_length=40)
    zone: Zone | None = None
    year: StrictInt | None = Field(default=None, ge=2000, le=2100)
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


class Measure(BaseModel):
    kind: MeasureKind
    quantity: StrictFloat = Field(ge=0, le=1e9)
    unit: str = Field(default="", max_length=20, description="m², signs, lights …")
    done: StrictFloat | None = Field(default=None, ge=0, le=1e9, description="quantity done so far")
    note: str = Field(default="", max_length=1000)


class Signs(BaseModel):
    count: StrictInt = Field(default=0, ge=0, le=100000)
    sizes: list[str] = Field(default_factory=list, max_length=200, description="e.g. 6.0×1.2 m")


class ApprovalDocument(BaseModel):
    reference: str = Field(min_length=1, max_length=300)
    issued_on: date | None = None
    issuer: str = Field(default="", max_length=300)


class ProjectFields(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=300)
    street_id: uuid.UUID | None = None
    district: str | None = Field(default=None, max_length=40, description="district or banner (else the street's)")
    zone: Zone | None = Field(default=None, description="colour-rule zone (else the street's)")
    dataset_id: uuid.UUID | None = Field(default=None, description="the building: a published dataset …")
    feature_id: str | None = Field(default=None, max_length=200, description="… and its feature (element id)")
    footprint: GeoJSONGeometry | None = Field(default=None, description="or a drawn footprint (Polygon)")
    crs: str = Field(default="EPSG:4490", max_length=2000)
    orientation: Orientation | None = None
    facade_area_m2: StrictFloat | None = Field(default=None, ge=0, le=1e7)
    measures: list[Measure] | None = Field(default=None, max_length=50)
    materials: list[str] | None = Field(default=None, max_length=50)
    signs: Signs | None = None
    lighting: str | None = Field(default=None, max_length=2000)
    budget_cny: StrictFloat | None = Field(default=None, ge=0, le=1e12)
    spent_cny: StrictFloat | None = Field(default=None, ge=0, le=1e12)
    funding_source: str | None = Field(default=None, max_length=300)
    contractor: str | None = Field(default=None, max_length=300)
    planned_start: date | None = None
    planned_end: date | None = None
    actual_start: date | None = None
    actual_end: date | None = None
    colours: list[FacadeColourIn] | None = Field(default=None, max_length=MAX_COLOURS)
    approval_documents: list[ApprovalDocument] | None = Field(default=None, max_length=50)
    note: str | None = Field(default=None, max_length=4000)


class ProjectCreate(ProjectFields):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=300)  # required on creation


class ProjectUpdate(ProjectFields):
    pass


class ProjectStatusChange(BaseModel):
    status: ProjectStatus


class HeritageTouch(BaseModel):
    building_id: uuid.UUID
    code: str
    name: str
    level: str
    status: str
    zone: str = Field(description="historic_building, protection_range or control_zone")


class ProjectOut(BaseModel):
    id: uuid.UUID
    version: int
    code: str
    name: str
    organization_id: uuid.UUID
    street_id: uuid.UUID | None
    district_code: str
    zone: Zone
    status: ProjectStatus
    dataset_id: uuid.UUID | None
    feature_id: str | None
    footprint: GeoJSONGeometry | None
    orientation: Orientation | None
    facade_area_m2: float | None
    measures: list[Measure]
    materials: list[str]
    signs: Signs
    lighting: str
    budget_cny: float | None
    spent_cny: float | None
    funding_source: str
    contractor: str
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    colours: list[FacadeColourOut]
    colour_check: CheckOut | None
    heritage: list[HeritageTouch]
    approval_required: bool
    approval_documents: list[ApprovalDocument]
    note: str
    created_at: datetime
    updated_at: datetime


class ProjectList(BaseModel):
    total: int
    items: list[ProjectOut]


class PhotoOut(BaseModel):
    id: uuid.UUID
    project_id: uuid.UUID
    stage: PhotoStage
    filename: str
    bytes: int
    sha256: str
    width: int | None
    height: int | None
    captured_at: datetime | None
    direction_deg: float | None
    caption: str
    created_at: datetime
    file_url: str


class PhotoList(BaseModel):
    items: list[PhotoOut]


class ModelCheckRequest(BaseModel):
    dataset: uuid.UUID
    revision: uuid.UUID | None = Field(default=None, description="default: the published (else newest) revision")
    zone: Zone = Zone.old_town


class ModelCheckSubmitted(BaseModel):
    job_id: uuid.UUID
    job_url: str
    dataset_id: uuid.UUID
    revision_id: uuid.UUID
    check_url: str


class ModelElementOut(BaseModel):
    global_id: str
    ifc_class: str
    name: str
    hex: str | None
    area_m2: float
    area_source: str
    fails: bool


class ModelColourOut(BaseModel):
    hex: str | None
    munsell: str
    chroma: float
    value: float
    high_chroma: bool
    use: str
    share: float
    elements: list[str]


class ModelCheckOut(BaseModel):
    dataset_id: uuid.UUID
    revision_id: uuid.UUID
    job_id: uuid.UUID | None
    zone: Zone
    outcome: Outcome
    checked_at: datetime
    colours: list[ModelColourOut]
    check: CheckOut
    elements: list[ModelElementOut]
    failing_elements: list[str] = Field(description="GlobalIds to highlight in the 3D city")
    skipped_elements: list[str] = Field(description="exterior elements without a colour or an area")


class ModelCheckList(BaseModel):
    items: list[ModelCheckOut]


class ProgressRowOut(BaseModel):
    key: str
    label: str
    projects: int
    by_status: dict[str, int]
    wall_m2_planned: float
    wall_m2_done: float
    signs_planned: float
    signs_done: float
    lights_planned: float
    lights_done: float
    budget_cny: float
    spent_cny: float


class ProgressOut(BaseModel):
    group_by: str
    rows: list[ProgressRowOut]

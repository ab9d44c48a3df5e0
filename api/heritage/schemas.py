"""Historic buildings: request and response bodies (every route answers one of these).

Geometries are GeoJSON. On input they are in ``crs`` (default EPSG:4490, CGCS2000 longitude/latitude;
Gauss-Krüger zones such as EPSG:4546 accepted, easting first); on output always EPSG:4490 lon/lat.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cim_platform.heritage.models import (
    Category,
    HeightDatum,
    ItemKind,
    Level,
    Ownership,
    Preservation,
    ProposalState,
    QaStage,
    Section,
    Status,
    SurveyTier,
    YearPrecision,
)

GeoJSONGeometry = dict[str, Any]
Text300 = Field(default=None, max_length=300)


class ErrorBody(BaseModel):
    error: str
    detail: str
    params: dict[str, Any] | None = None


class BuildingFields(BaseModel):
    """The editable fields (all optional here; a missing field is left as it is, null clears it)."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, min_length=1, max_length=64, description="Official code")
    name: str | None = Field(default=None, min_length=1, max_length=300)
    aliases: list[str] | None = Field(default=None, max_length=50)
    listing_batch: str | None = Field(default=None, max_length=100)
    announcement_number: str | None = Field(default=None, max_length=200, description="Announcement document number")
    announcement_date: date | None = None
    level: Level | None = None
    district: str | None = Field(default=None, max_length=80, description="District or banner: code, slug or name")
    town: str | None = Field(default=None, max_length=100)
    address: str | None = Text300
    location: GeoJSONGeometry | None = Field(default=None, description="GeoJSON Point in `crs`")
    outline: GeoJSONGeometry | None = Field(default=None, description="GeoJSON (Multi)Polygon in `crs`")
    protection_range: GeoJSONGeometry | None = Field(default=None, description="GeoJSON (Multi)Polygon in `crs`")
    control_zone: GeoJSONGeometry | None = Field(
        default=None, description="Construction-control zone: GeoJSON (Multi)Polygon in `crs`"
    )
    category: Category | None = None
    construction_period: str | None = Field(default=None, max_length=100, description="e.g. 清 / Qing dynasty")
    construction_year: int | None = Field(default=None, ge=-3000, le=2100)
    year_precision: YearPrecision | None = None
    structure_type: str | None = Field(default=None, max_length=100)
    storeys: int | None = Field(default=None, ge=0, le=200)
    height_m: float | None = Field(default=None, ge=0, le=1000)
    floor_area_m2: float | None = Field(default=None, ge=0, le=10_000_000)
    ownership: Ownership | None = None
    owner: str | None = Text300
    occupant: str | None = Field(default=None, max_length=300, description="The building's user")
    current_use: str | None = Text300
    preservation: Preservation | None = None
    value_features: str | None = Field(default=None, max_length=20_000)
    key_parts: str | None = Field(default=None, max_length=20_000, description="Key protected parts")
    group_id: uuid.UUID | None = None


class BuildingCreate(BuildingFields):
    code: str = Field(min_length=1, max_length=64, description="Official code")
    name: str = Field(min_length=1, max_length=300)
    district: str = Field(min_length=1, max_length=80, description="District or banner: code, slug or name")
    crs: str = Field(default="EPSG:4490", max_length=100, description="CRS of the geometries (pyproj input)")


class BuildingUpdate(BuildingFields):
    crs: str = Field(default="EPSG:4490", max_length=100, description="CRS of the geometries (pyproj input)")
    note: str = Field(default="", max_length=5000, description="Why (kept with a proposal)")


class BuildingLinks(BaseModel):
    self: str
    history: str | None = None
    proposals: str | None = None


class BuildingPublic(BaseModel):
    """What anyone may read of a listed record (no owners, occupants, addresses or vulnerable details)."""

    id: uuid.UUID
    code: str
    name: str
    aliases: list[str]
    listing_batch: str | None
    announcement_number: str | None
    announcement_date: date | None
    status: Status
    level: Level
    district: str = Field(description="Administrative division code")
    town: str | None
    location: GeoJSONGeometry | None
    outline: GeoJSONGeometry | None
    protection_range: GeoJSONGeometry | None
    control_zone: GeoJSONGeometry | None
    category: Category | None
    construction_period: str | None
    construction_year: int | None
    year_precision: YearPrecision | None
    structure_type: str | None
    storeys: int | None
    height_m: float | None
    floor_area_m2: float | None
    value_features: str | None
    group_id: uuid.UUID | None
    links: BuildingLinks


class ProposalOut(BaseModel):
    id: uuid.UUID
    building_id: uuid.UUID
    base_version: int = Field(description="The record's version the edit was made on")
    changes: dict[str, Any] = Field(description="Field → proposed value (geometries in EPSG:4490)")
    note: str
    state: ProposalState
    proposed_by: str | None
    created_at: datetime
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_comment: str | None


class SectionSummary(BaseModel):
    section: Section
    items: int = Field(description="Current items (not superseded, not retired)")
    accepted: int = Field(description="Of those, accepted by QA")
    complete: bool = Field(description="Holds an accepted item of a kind that completes the section")


class BuildingOut(BuildingPublic):
    """The whole record (signed-in readers)."""

    version: int = Field(description="Counts the record's changes; the ETag names it")
    address: str | None
    ownership: Ownership | None
    owner: str | None
    occupant: str | None
    current_use: str | None
    preservation: Preservation | None
    key_parts: str | None
    delisting_reference: str | None
    retired_at: datetime | None
    retired_reason: str | None
    created_at: datetime
    updated_at: datetime | None
    pending_proposals: list[ProposalOut] | None = Field(default=None, description="Detail views only")
    archive: list[SectionSummary] | None = Field(default=None, description="The five sections (detail views only)")


class BuildingList(BaseModel):
    buildings: list[BuildingOut | BuildingPublic]
    count: int
    total: int


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: Status
    comment: str = Field(default="", max_length=5000)
    approval_reference: str | None = Field(
        default=None, max_length=200, description="Approval document reference (required to delist)"
    )


class RetireRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=5000)


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=5000)


class ProposalList(BaseModel):
    proposals: list[ProposalOut]
    count: int
    total: int


class HistoryEntry(BaseModel):
    id: int
    at: datetime
    actor: str | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class History(BaseModel):
    building_id: uuid.UUID
    entries: list[HistoryEntry]


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=300)
    code: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=20_000)


class GroupMember(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    status: Status


class GroupOut(BaseModel):
    id: uuid.UUID
    name: str
    code: str | None
    description: str
    created_at: datetime
    members: list[GroupMember] | None = Field(default=None, description="Detail views only")


class GroupList(BaseModel):
    groups: list[GroupOut]


class ConflictOut(BaseModel):
    building_id: uuid.UUID
    building_code: str
    building_name: str
    district: str
    zone: str = Field(description="protection_range or control_zone")
    dataset_id: uuid.UUID
    dataset_name: str
    revision_id: uuid.UUID
    revision_number: int
    published: bool
    area_m2: float = Field(description="Overlap on the ellipsoid (PostGIS geography), m²")
    area_gk_m2: float = Field(description="Overlap in the district's Gauss-Krüger zone, m²")
    gk_epsg: int


class ConflictList(BaseModel):
    conflicts: list[ConflictOut]
    count: int


class ArchiveItemForm(BaseModel):
    """The text fields of an archive upload (multipart, next to the ``file`` part)."""

    model_config = ConfigDict(extra="forbid")

    section: Section
    kind: ItemKind
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20_000)
    event_date: date | None = Field(default=None, description="Date of the change or intervention (sections 3, 4)")
    plane_datum: str | None = Field(default=None, max_length=64, description="e.g. EPSG:4546")
    height_datum: HeightDatum | None = None
    survey_tier: SurveyTier | None = None
    accuracy: str | None = Field(default=None, max_length=100)
    captured_on: date | None = None
    surveyor: str | None = Field(default=None, max_length=200)
    organisation: str | None = Field(default=None, max_length=300)
    equipment: str | None = Field(default=None, max_length=300)
    supersedes: uuid.UUID | None = Field(default=None, description="The item this one is a new version of")
    convert: bool = Field(default=False, description="Point clouds, meshes, BIM models: convert to a linked dataset")
    crs: str | None = Field(default=None, max_length=100, description="The conversion's CRS (as for dataset uploads)")
    origin: str | None = Field(default=None, max_length=200, description="The conversion's origin E,N[,H] (meshes)")


class QaEntry(BaseModel):
    stage: QaStage
    by: str | None
    at: datetime
    comment: str | None = None


class ArchiveItemOut(BaseModel):
    id: uuid.UUID
    building_id: uuid.UUID
    section: Section
    kind: ItemKind
    title: str
    description: str
    event_date: date | None
    filename: str
    bytes: int
    sha256: str
    format: str
    plane_datum: str | None
    height_datum: HeightDatum | None
    survey_tier: SurveyTier | None
    accuracy: str | None
    captured_on: date | None
    surveyor: str | None
    organisation: str | None
    equipment: str | None
    qa_stage: QaStage
    qa_log: list[QaEntry]
    version_no: int
    supersedes_id: uuid.UUID | None
    superseded_at: datetime | None
    retired_at: datetime | None
    retired_reason: str | None
    created_at: datetime
    dataset_id: uuid.UUID | None = Field(description="The dataset its conversion became (convert=true)")
    file_url: str


class ArchiveItemList(BaseModel):
    items: list[ArchiveItemOut]


class QaRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: QaStage
    comment: str = Field(default="", max_length=5000)


class BuildingCompletenessOut(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    district: str
    status: Status
    complete: bool
    missing: list[Section]


class CompletenessOut(BaseModel):
    buildings: list[BuildingCompletenessOut]
    listed_total: int = Field(description="Listed, active records city-wide")
    listed_complete: int = Field(description="Of those, with all five sections complete")
    share_complete: float | None = Field(description="listed_complete / listed_total (city-wide)")


class RowProblemOut(BaseModel):
    row: int = Field(description="Row as the city sees it (CSV/Excel: the sheet's row, header = 1; GeoJSON: feature)")
    field: str
    problem: str


class ImportReportOut(BaseModel):
    dry_run: bool
    imported: bool = Field(description="True only when every row was valid and the import was real")
    rows: int
    valid_rows: int
    problems: list[RowProblemOut]
    created: list[uuid.UUID]


class ApprovalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision_id: uuid.UUID = Field(description="The dataset revision overlapping protection zones")
    reference: str = Field(min_length=1, max_length=200, description="The approval document's reference")
    comment: str = Field(default="", max_length=5000)


class ApprovalOut(BaseModel):
    id: uuid.UUID
    revision_id: uuid.UUID
    reference: str
    comment: str
    approved_by: str | None
    created_at: datetime


class ApprovalList(BaseModel):
    approvals: list[ApprovalOut]


class AlertOut(BaseModel):
    id: uuid.UUID
    building_id: uuid.UUID
    kind: str
    dataset_id: uuid.UUID | None
    revision_id: uuid.UUID | None
    detail: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None


class AlertList(BaseModel):
    alerts: list[AlertOut]


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: str = Field(min_length=1, max_length=5000)

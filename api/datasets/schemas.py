"""Datasets: response bodies (every route of the domain answers one of these)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cim_platform.datasets.models import DatasetKind, RevisionState, Visibility

GeoJSONGeometry = dict[str, Any]
"""A GeoJSON geometry object (RFC 7946), WGS84 longitude/latitude."""


class SourceFileOut(BaseModel):
    filename: str
    bytes: int
    sha256: str


class RevisionLinks(BaseModel):
    job: str | None = Field(description="The conversion job")
    source: str = Field(description="The original upload, byte for byte")


class OriginOut(BaseModel):
    lon: float
    lat: float
    height: float


class GeoreferencingOut(BaseModel):
    source: str | None = Field(description="Where the placement came from (IfcMapConversion, IfcSite, LAS CRS, …)")
    crs: str | None
    origin: OriginOut | None
    origin_ecef: list[float] | None
    root_transform: list[float] | None = Field(description="The root tile's 4×4 transform, column-major")


class TileTotals(BaseModel):
    count: int | None
    bytes: int | None


class WithdrawalOut(BaseModel):
    at: datetime | None
    by: uuid.UUID | None = Field(description="The user who withdrew the revision")
    reason: str


class RevisionWithdrawal(BaseModel):
    """Withdraw a revision: its pinned URLs answer 410 Gone from then on (it cannot be undone)."""

    reason: str = Field(min_length=1, max_length=2000, description="Why (kept in the revision and the audit trail)")


class RevisionOut(BaseModel):
    id: uuid.UUID
    number: int
    state: RevisionState
    published: bool
    source: SourceFileOut
    job_id: uuid.UUID | None
    created_at: datetime | None
    converted_at: datetime | None
    tileset_url: str | None = Field(description="Revision-pinned (immutable) tileset, once converted")
    links: RevisionLinks
    withdrawal: WithdrawalOut | None = Field(default=None, description="Who withdrew it, when and why")
    georeferencing: GeoreferencingOut | None = Field(default=None, description="Detail views only")
    footprint: GeoJSONGeometry | None = None
    height_range: list[float | None] | None = None
    tiles: TileTotals | None = None
    convert_params: dict[str, Any] | None = Field(default=None, description="The conversion options of the upload")
    report: dict[str, Any] | None = Field(default=None, description="The converter's report (free form)")


class DatasetOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    kind: DatasetKind
    lod: str | None
    district: str | None = Field(description="Administrative division code")
    visibility: Visibility
    organization_id: uuid.UUID
    organization_name: str
    created_at: datetime | None
    updated_at: datetime | None
    published_revision_id: uuid.UUID | None
    publication: str = Field(description="auto: the newest ready revision is published; pinned: an owner chose one")
    tileset_url: str | None
    footprint: GeoJSONGeometry | None
    published_revision: RevisionOut | None = Field(default=None, description="Detail views only")


class DatasetList(BaseModel):
    datasets: list[DatasetOut]
    count: int = Field(description="Datasets in this page")
    total: int = Field(description="Datasets matching the filters (also in the X-Total-Count header)")


class RevisionList(BaseModel):
    revisions: list[RevisionOut]


class JobRef(BaseModel):
    id: uuid.UUID
    state: str
    href: str


class UploadAccepted(BaseModel):
    dataset: DatasetOut
    revision: RevisionOut
    job: JobRef


class DistrictOut(BaseModel):
    code: str
    slug: str
    name: str
    name_zh: str
    kind: str
    epsg: int | None = Field(description="The CGCS2000 3-degree Gauss-Krüger zone of the district (EPSG code)")
    seat: list[float] | None = Field(description="The seat of government, [longitude, latitude] (WGS84)")


class DistrictList(BaseModel):
    districts: list[DistrictOut]

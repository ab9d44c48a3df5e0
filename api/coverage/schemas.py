"""Response and request models of the coverage routes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator


def _iso_date(value: Any) -> Any:
    """Dates as ISO strings only (pydantic would read a number as seconds since 1970)."""
    if isinstance(value, int | float):
        raise ValueError("a date is an ISO string, e.g. 2025-12-31")
    return value


class UnitOut(BaseModel):
    code: str
    district_code: str
    parent_code: str | None
    level: str = Field(description="district | banner | town")
    name: str
    name_zh: str
    has_boundary: bool


class UnitList(BaseModel):
    items: list[UnitOut]


class TownCreate(BaseModel):
    code: str = Field(min_length=6, max_length=12, description="administrative division code, e.g. 150627100")
    parent: str = Field(min_length=1, max_length=80, description="the district or banner (code, slug or name)")
    name: str = Field(min_length=1, max_length=80)
    name_zh: str = Field(min_length=1, max_length=40)


class BuiltUpOut(BaseModel):
    id: uuid.UUID
    unit_code: str
    year: int
    source: str
    source_note: str
    area_m2: float
    geom_sha256: str
    created_at: datetime
    updated_at: datetime | None


class BuiltUpList(BaseModel):
    items: list[BuiltUpOut]
    snapshot_job: uuid.UUID | None = Field(default=None, description="the debounced snapshot job a change queued")


class InventoryOut(BaseModel):
    unit_code: str
    buildings: int


class LevelOut(BaseModel):
    code: int
    name: str
    description: str


class MappingOut(BaseModel):
    kind: str
    lod: str
    level: int
    level_name: str
    note: str


class MappingIn(BaseModel):
    level: int = Field(ge=1, le=7)
    note: str = Field("", max_length=2000)


class LevelsOut(BaseModel):
    levels: list[LevelOut]
    mappings: list[MappingOut]
    unmapped_level: int


class DefinitionOut(BaseModel):
    level: int
    level_name: str
    kind: str | None
    year: int | None
    count_share: float
    text: str


class FigureOut(BaseModel):
    unit: str
    name: str
    name_zh: str
    level: str = Field(description="city | district | banner | town")
    parent: str | None
    built_up_year: int | None
    built_up_m2: float
    covered_m2: float
    share: float | None
    buildings: int | None
    buildings_covered: int | None
    count_share: float | None = Field(description="buildings_covered / buildings")
    by_kind: dict[str, float]
    by_level: dict[str, float]


class TargetOut(BaseModel):
    id: uuid.UUID
    unit: str
    due_date: date
    share: float
    min_level: int
    note: str
    state: str = Field(description="reached | on_track | behind | missed | no_data")
    reached_at: datetime | None
    latest_share: float | None
    projected_share: float | None


class CoverageOut(BaseModel):
    definition: DefinitionOut
    snapshot_id: uuid.UUID | None = Field(description="the stored snapshot answering (null: computed now, not stored)")
    taken_at: datetime | None
    inputs_hash: str
    computed_units: list[str]
    city: FigureOut
    units: list[FigureOut] = Field(description="empty for anonymous callers (the city figure is public)")
    targets: list[TargetOut]


class HistoryPoint(BaseModel):
    snapshot_id: uuid.UUID
    taken_at: datetime
    trigger: str
    share: float | None
    covered_m2: float
    built_up_m2: float


class HistoryOut(BaseModel):
    unit: str
    definition: DefinitionOut
    points: list[HistoryPoint]
    targets: list[TargetOut]


class SnapshotRequest(BaseModel):
    level: int | None = Field(None, ge=1, le=7, description="null: every level a target names, and CIM1")
    kind: str | None = Field(None, max_length=16)
    year: int | None = Field(None, ge=1900, le=2200)


class SnapshotJobOut(BaseModel):
    job_id: uuid.UUID
    links: dict[str, str]


class SnapshotOut(BaseModel):
    id: uuid.UUID
    taken_at: datetime
    trigger: str
    definition: DefinitionOut
    inputs_hash: str
    duration_ms: float
    computed_units: list[str]
    figures: list[FigureOut] | None = None


class SnapshotList(BaseModel):
    items: list[SnapshotOut]


class TargetCreate(BaseModel):
    unit: str = Field("city", min_length=1, max_length=80, description="'city', or a unit's code, slug or name")
    due_date: date = Field(description="ISO date, e.g. 2025-12-31")
    share: float = Field(gt=0, le=1, description="fraction, 0.3 = 30 %")
    min_level: int = Field(1, ge=1, le=7)
    note: str = Field("", max_length=2000)

    _due_date_iso = field_validator("due_date", mode="before")(_iso_date)


class TargetUpdate(BaseModel):
    unit: str | None = Field(None, min_length=1, max_length=80)
    due_date: date | None = None
    share: float | None = Field(None, gt=0, le=1)
    min_level: int | None = Field(None, ge=1, le=7)
    note: str | None = Field(None, max_length=2000)

    _due_date_iso = field_validator("due_date", mode="before")(_iso_date)


class TargetList(BaseModel):
    items: list[TargetOut]

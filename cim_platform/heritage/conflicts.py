"""Protection checks: dataset revisions whose footprint intersects a protection range or a
construction-control zone, with the overlap area in m² computed by PostGIS.

Two areas are given: on the ellipsoid (``ST_Area`` of a geography: the true area) and in the CGCS2000
Gauss-Krüger zone of the building's district (what a surveyor's drawing measures; it differs from the
true area by the zone's scale error, about 0.02 % a degree away from the central meridian).
Checks run when asked (``GET /api/v1/heritage/conflicts``), so they always reflect the current records.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from geoalchemy2 import Geography
from sqlalchemy import ColumnElement, cast, exists, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from cim_platform.core.access import Caller
from cim_platform.datasets.models import Dataset, DatasetRevision, District, RevisionState, Visibility
from cim_platform.datasets.service import resolve_district
from cim_platform.heritage.models import ArchiveItem, Building
from cim_platform.heritage.scopes import HeritageScope

ZONES: dict[str, InstrumentedAttribute[object]] = {
    "protection_range": Building.protection_range,
    "control_zone": Building.control_zone,
}


@dataclass(frozen=True)
class ConflictRow:
    building_id: uuid.UUID
    building_code: str
    building_name: str
    district_code: str
    zone: str
    dataset_id: uuid.UUID
    dataset_name: str
    revision_id: uuid.UUID
    revision_number: int
    published: bool
    area_m2: float
    area_gk_m2: float
    gk_epsg: int


@dataclass
class ConflictFilter:
    building_id: uuid.UUID | None = None
    dataset_id: uuid.UUID | None = None
    revision_id: uuid.UUID | None = None
    district: str | None = None
    zone: str | None = None
    published_only: bool = False
    limit: int = 500


def _visible(caller: Caller) -> ColumnElement[bool] | None:
    if caller.reads_everything():
        return None
    conditions: list[ColumnElement[bool]] = [Dataset.visibility == Visibility.public.value]
    if caller.organization_id is not None:
        conditions.append(Dataset.organization_id == caller.organization_id)
    return or_(*conditions)


def find_conflicts(session: Session, caller: Caller, filters: ConflictFilter) -> list[ConflictRow]:
    """Conflicts of active records with ready revisions of datasets the caller can see."""
    caller.require(HeritageScope.read)
    rows: list[ConflictRow] = []
    visible = _visible(caller)
    district = resolve_district(session, filters.district) if filters.district else None
    for name, column in ZONES.items():
        if filters.zone and filters.zone != name:
            continue
        # a survey of the building itself (an archive item converted into this dataset) is no threat to it
        own_survey = exists().where(ArchiveItem.dataset_id == Dataset.id, ArchiveItem.building_id == Building.id)
        zone = func.ST_Transform(column, 4326)
        overlap = func.ST_Intersection(zone, DatasetRevision.footprint)
        query = (
            select(
                Building.id,
                Building.code,
                Building.name,
                Building.district_code,
                Dataset.id,
                Dataset.name,
                DatasetRevision.id,
                DatasetRevision.number,
                Dataset.published_revision_id == DatasetRevision.id,
                func.ST_Area(cast(overlap, Geography)),
                func.ST_Area(func.ST_Transform(overlap, District.epsg)),
                District.epsg,
            )
            .select_from(Building)
            .join(District, District.code == Building.district_code)
            .join(DatasetRevision, func.ST_Intersects(zone, DatasetRevision.footprint))
            .join(Dataset, Dataset.id == DatasetRevision.dataset_id)
            .where(Building.retired_at.is_(None), column.is_not(None))
            .where(DatasetRevision.state == RevisionState.ready.value)
            .where(~own_survey)
        )
        if visible is not None:
            query = query.where(visible)
        if filters.building_id:
            query = query.where(Building.id == filters.building_id)
        if filters.dataset_id:
            query = query.where(Dataset.id == filters.dataset_id)
        if filters.revision_id:
            query = query.where(DatasetRevision.id == filters.revision_id)
        if district:
            query = query.where(Building.district_code == district)
        if filters.published_only:
            query = query.where(Dataset.published_revision_id == DatasetRevision.id)
        for row in session.execute(query.order_by(Building.code, Dataset.name, DatasetRevision.number)):
            rows.append(
                ConflictRow(
                    row[0],
                    row[1],
                    row[2],
                    row[3],
                    name,
                    row[4],
                    row[5],
                    row[6],
                    row[7],
                    bool(row[8]),
                    float(row[9] or 0.0),
                    float(row[10] or 0.0),
                    int(row[11]),
                )
            )
    return rows[: filters.limit]

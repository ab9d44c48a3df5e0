"""Historic records a project's building touches: its outline (a historic building), protection
range or construction-control zone. Any of them makes approval documents required.

The heritage domain's conflict check (``cim_platform.heritage.conflicts``) works on dataset revisions;
for a footprint it is the same test on the same zones, run here on the heritage tables.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cim_platform.datasets.models import Dataset, DatasetRevision
from cim_platform.heritage.conflicts import ZONES
from cim_platform.heritage.models import Building, Status

CHECKED = {"outline": Building.outline, **ZONES}


def touched_records(session: Session, footprint_wkt: Any) -> list[dict[str, Any]]:
    """Active (not retired, not delisted) records whose outline or zones intersect the footprint."""
    found: list[dict[str, Any]] = []
    for zone_name, column in CHECKED.items():
        query = (
            select(Building.id, Building.code, Building.name, Building.level, Building.status)
            .where(Building.retired_at.is_(None), Building.status != Status.delisted.value, column.is_not(None))
            .where(func.ST_Intersects(column, footprint_wkt))
            .order_by(Building.code)
        )
        for building_id, code, name, level, status in session.execute(query):
            found.append(
                {
                    "building_id": str(building_id),
                    "code": code,
                    "name": name,
                    "level": level,
                    "status": status,
                    "zone": "historic_building" if zone_name == "outline" else zone_name,
                }
            )
    return found


def dataset_footprint(session: Session, dataset_id: uuid.UUID) -> Any | None:
    """The published revision's footprint of a dataset, in EPSG:4490 (stored 4326: the same frame here)."""
    return session.scalar(
        select(func.ST_SetSRID(DatasetRevision.footprint, 4490))
        .join(Dataset, Dataset.published_revision_id == DatasetRevision.id)
        .where(Dataset.id == dataset_id)
    )

"""Coverage test helpers: published datasets with known footprints inserted directly (no conversion),
built-up areas from shapely geometries, geodesic areas computed independently with pyproj.Geod."""

from __future__ import annotations

import uuid
from typing import Any

from pyproj import Geod
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient
from sqlalchemy import Engine

from cim_platform.core.access import Caller, Role
from cim_platform.core.db.engine import session_scope
from cim_platform.coverage import areas
from cim_platform.coverage.geofiles import Feature
from tests.support import stored_datasets
from tests.support.stored_datasets import StoredRevision, multi

GEOD = Geod(ellps="WGS84")
ADMIN = Caller(user_id=None, username="coverage-test", organization_id=None, role=Role.admin)

# Dongsheng (EPSG:4546 zone) and Hanggin (EPSG:4545 zone): the zone boundary is 109.5°E
DONGSHENG, HANGGIN, KANGBASHI = "150602", "150625", "150603"


def geodesic_area(geometry: BaseGeometry) -> float:
    """Area on the WGS84 ellipsoid (holes subtracted, parts added): pyproj wants exteriors
    counter-clockwise and holes clockwise, so the rings are oriented first."""
    parts = getattr(geometry, "geoms", [geometry])
    return sum(GEOD.geometry_area_perimeter(orient(part, 1.0))[0] for part in parts if not part.is_empty)


def square(lon: float, lat: float, size: float) -> Polygon:
    return box(lon, lat, lon + size, lat + size)


def add_dataset(
    engine: Engine,
    organization_id: uuid.UUID,
    footprints: list[BaseGeometry | None],
    *,
    kind: str = "footprints",
    lod: str | None = "LOD1",
    visibility: str = "internal",
    states: list[str] | None = None,
    published: int | None = -1,
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A dataset with one revision per footprint (states default 'ready'); ``published`` indexes the
    published revision (-1: the last, None: none). Returns the dataset id and the revision ids."""
    states = states or ["ready"] * len(footprints)
    revisions = [
        StoredRevision(state=state, footprint=footprint, source_filename="test.geojson")
        for footprint, state in zip(footprints, states, strict=True)
    ]
    name = f"coverage test {uuid.uuid4().hex[:6]}"
    return stored_datasets.add_dataset(
        engine, organization_id, revisions, name=name, kind=kind, lod=lod, visibility=visibility, published=published
    )


def set_built_up(engine: Engine, unit: str, geometry: BaseGeometry, year: int = 2025, source: str = "other") -> Any:
    with session_scope(engine) as session:
        return areas.load_built_up(session, ADMIN, [Feature(multi(geometry))], unit=unit, year=year, source=source)[
            0
        ].id

"""Covered and uncovered built-up area per unit as GeoJSON, from PostGIS (the dashboard's map)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cim_platform.coverage.compute import BUILT_SQL, prepare_parts, year_of
from cim_platform.coverage.definition import Definition

MAP_SQL = f"""
    WITH built AS ({BUILT_SQL}),
    cov AS (
      SELECT b.unit_code, ST_Union(ST_CollectionExtract(ST_Intersection(p.geom, b.geom), 3)) AS g
        FROM built b JOIN coverage_parts p ON ST_Intersects(p.geom, b.geom)
       GROUP BY b.unit_code
    )
    SELECT b.unit_code, b.year, u.name, u.name_zh,
           ST_AsGeoJSON(cov.g, :digits) AS covered,
           ST_AsGeoJSON(CASE WHEN cov.g IS NULL THEN b.geom ELSE ST_Difference(b.geom, cov.g) END, :digits) AS uncovered
      FROM built b
      JOIN coverage_units u ON u.code = b.unit_code
      LEFT JOIN cov ON cov.unit_code = b.unit_code
     ORDER BY b.unit_code
"""


BOUNDARIES_SQL = """
    SELECT u.code, u.name, u.name_zh, u.level, u.parent_code, u.boundary_source,
           ST_AsGeoJSON(u.boundary, :digits) AS geometry,
           ST_Area(u.boundary::geography) AS area_m2
      FROM coverage_units u
     WHERE u.boundary IS NOT NULL AND (CAST(:units AS text[]) IS NULL OR u.code = ANY(:units))
     ORDER BY u.code
"""


def boundaries(session: Session, units: list[str] | None = None, digits: int = 6) -> dict[str, Any]:
    """The units' boundaries as a FeatureCollection (EPSG:4326), each with its source (the demo's are
    labelled synthetic and approximate there) and its geodesic area."""
    rows = session.execute(text(BOUNDARIES_SQL), {"units": units, "digits": digits})
    features = [
        {
            "type": "Feature",
            "id": code,
            "geometry": json.loads(geometry),
            "properties": {
                "unit": code,
                "name": name,
                "name_zh": name_zh,
                "level": level,
                "parent": parent,
                "source": source or "",
                "area_m2": round(float(area), 1),
            },
        }
        for code, name, name_zh, level, parent, source, geometry, area in rows
    ]
    return {"type": "FeatureCollection", "features": features}


def coverage_map(session: Session, definition: Definition, units: list[str], digits: int = 6) -> dict[str, Any]:
    """A FeatureCollection: for each unit one ``covered`` and one ``uncovered`` feature (EPSG:4326)."""
    prepare_parts(session, definition, units)
    rows = session.execute(text(MAP_SQL), {"year": year_of(definition), "units": units, "digits": digits})
    features = []
    for code, year, name, name_zh, covered, uncovered in rows:
        for state, geometry in (("covered", covered), ("uncovered", uncovered)):
            if geometry is None:
                continue
            features.append(
                {
                    "type": "Feature",
                    "geometry": json.loads(geometry),
                    "properties": {"unit": code, "name": name, "name_zh": name_zh, "year": year, "state": state},
                }
            )
    return {"type": "FeatureCollection", "definition": definition.as_dict(), "features": features}

"""The coverage computed in PostGIS, per unit: built-up area, covered area, breakdown, building counts.

Published footprints are stored once as valid polygons with their geodesic area and hash (``parts.py``);
a computation reads those near each built-up area through their GIST index, keeps the ones within it
whole (stored area) and clips the others, counts identical pieces once, adds up the pieces that overlap
no other and unions only those that do (overlaps count once); areas on the ellipsoid (``geography``).
Every unit is computed independently, so a snapshot recomputes only the units whose inputs changed
(``snapshots.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cim_platform.coverage.definition import Definition
from cim_platform.coverage.levels import LEVEL_SQL, level_name
from cim_platform.coverage.parts import store_missing_parts

# the published, ready revision of every dataset with a footprint, with its kind and CIM level
SOURCES_SQL = f"""
    SELECT d.id AS dataset_id, d.kind, d.lod, r.id AS revision_id, {LEVEL_SQL} AS level, r.footprint
      FROM datasets d
      JOIN dataset_revisions r ON r.id = d.published_revision_id AND r.dataset_id = d.id
     WHERE r.state = 'ready' AND r.footprint IS NOT NULL
"""
SELECTED_SQL = (
    f"SELECT * FROM ({SOURCES_SQL}) s WHERE s.level >= :level AND (CAST(:kind AS text) IS NULL OR s.kind = :kind)"
)

BUILT_SQL = """
    SELECT DISTINCT ON (b.unit_code) b.id, b.unit_code, b.year, b.geom, b.area_m2, b.geom_sha256
      FROM coverage_built_up_areas b
     WHERE b.year <= :year AND b.unit_code = ANY(:units)
     ORDER BY b.unit_code, b.year DESC
"""


# The stored parts (``parts.py``) of the selected revisions near each unit's built-up area, through the GIST
# index: a part within the built-up area keeps its stored area and hash, one crossing its edge is clipped and
# measured. Identical pieces (the same building in several datasets) count once, by their hash; a piece is
# "flagged" when a stored overlap links it to another selected part. The covered area of each unit, source
# kind and CIM level: the pieces that overlap nothing add up their areas, only the flagged ones are unioned
# (so overlaps count once; a piece whose partner lies elsewhere is merely unioned needlessly). Areas on the
# ellipsoid (geography).
AREAS_SQL = f"""
    WITH built AS ({BUILT_SQL}),
    sel AS MATERIALIZED (SELECT s.revision_id, s.kind, s.level FROM ({SELECTED_SQL}) s),
    near AS MATERIALIZED (
      SELECT b.unit_code, b.geom AS bg, s.kind, s.level, p.id, p.geom, p.area_m2, p.geom_hash,
             CASE WHEN ST_Within(p.geom, b.geom) THEN 1 WHEN ST_Intersects(p.geom, b.geom) THEN 0 ELSE -1 END AS state
        FROM built b
        JOIN coverage_revision_parts p ON p.geom && b.geom
        JOIN sel s ON s.revision_id = p.revision_id
    ),
    -- a clipped piece carries its geometry; a whole part is found again by its id when it has to be unioned
    clipped AS (
      SELECT unit_code, kind, level, id, NULL::geometry AS g, area_m2 AS a, geom_hash AS h FROM near WHERE state = 1
      UNION ALL
      SELECT unit_code, kind, level, id, c.g, ST_Area(c.g::geography), md5(ST_AsBinary(c.g))::uuid
        FROM near, LATERAL (SELECT ST_CollectionExtract(ST_Intersection(geom, bg), 3) AS g) c
       WHERE state = 0 AND NOT ST_IsEmpty(c.g)
    ),
    grouped AS MATERIALIZED (
      SELECT unit_code, h, min(id) AS part, min(a) AS a, array_agg(DISTINCT kind) AS kinds,
             array_agg(DISTINCT level) AS levels, (array_agg(g) FILTER (WHERE g IS NOT NULL))[1] AS clipped
        FROM clipped GROUP BY unit_code, h
    ),
    -- identical pieces overlap the same parts: one index probe per distinct piece
    flagged AS MATERIALIZED (
      SELECT unit_code, a, kinds, levels, part, clipped,
             EXISTS (SELECT 1 FROM coverage_part_overlaps o
                       JOIN coverage_revision_parts q ON q.id = o.other_id
                      WHERE o.part_id = grouped.part AND q.revision_id IN (SELECT revision_id FROM sel)) AS flagged
        FROM grouped
    ),
    pieces AS (
      SELECT unit_code, a, kinds, levels, flagged,
             CASE WHEN flagged
                  THEN coalesce(clipped, (SELECT p.geom FROM coverage_revision_parts p WHERE p.id = part)) END AS g
        FROM flagged
    ),
    dims AS (
      SELECT unit_code, 'total' AS dim, '' AS key, a, flagged, g FROM pieces
      UNION ALL
      SELECT unit_code, 'kind', one, a, flagged, g FROM pieces, unnest(kinds) AS one
      UNION ALL
      SELECT unit_code, 'level', one::text, a, flagged, g FROM pieces, unnest(levels) AS one
    )
    SELECT unit_code, dim, key,
           coalesce(sum(a) FILTER (WHERE NOT flagged), 0)
           + coalesce(ST_Area(ST_Union(g) FILTER (WHERE flagged)::geography), 0)
      FROM dims GROUP BY unit_code, dim, key
"""
# the estimates of these queries are poor (geometry joins): JIT compilation would cost seconds, and sorting the
# pieces needs more than the default work_mem
TUNING_SQL = ("SET LOCAL jit = off", "SET LOCAL work_mem = '128MB'")


@dataclass
class UnitFigure:
    unit_code: str
    built_up_year: int | None = None
    built_up_m2: float = 0.0
    covered_m2: float = 0.0
    by_kind: dict[str, float] = field(default_factory=dict)
    by_level: dict[str, float] = field(default_factory=dict)
    buildings: int | None = None
    buildings_covered: int | None = None

    @property
    def share(self) -> float | None:
        return self.covered_m2 / self.built_up_m2 if self.built_up_m2 > 0 else None

    @property
    def breakdown(self) -> dict[str, Any]:
        return {"kind": self.by_kind, "level": self.by_level}


def year_of(definition: Definition) -> int:
    return definition.year if definition.year is not None else 9999


def _selection(definition: Definition, units: list[str]) -> dict[str, Any]:
    return {"level": definition.level, "kind": definition.kind, "year": year_of(definition), "units": units}


def prepare_parts(session: Session, definition: Definition, units: list[str]) -> None:
    """The stored parts of the selected footprints near the units' built-up areas or inventories (bounding
    boxes) in a temporary table ``coverage_parts`` (GIST-indexed when an inventory needs it), for the
    building counts and the map."""
    params = _selection(definition, units)
    store_missing_parts(session, SELECTED_SQL, params)
    session.execute(text("DROP TABLE IF EXISTS coverage_parts"))
    session.execute(
        text(
            f"""CREATE TEMPORARY TABLE coverage_parts ON COMMIT DROP AS
                WITH built AS ({BUILT_SQL}),
                inv AS (SELECT ST_SetSRID(ST_Extent(footprint)::geometry, 4326) AS ext
                          FROM coverage_inventory_buildings WHERE unit_code = ANY(:units)),
                near AS (SELECT geom FROM built UNION ALL SELECT ext FROM inv WHERE ext IS NOT NULL)
                SELECT s.kind, s.level, p.geom
                  FROM ({SELECTED_SQL}) s JOIN coverage_revision_parts p ON p.revision_id = s.revision_id
                 WHERE EXISTS (SELECT 1 FROM near WHERE near.geom && p.geom)"""
        ),
        params,
    )
    inventory = session.scalar(
        text("SELECT EXISTS (SELECT 1 FROM coverage_inventory_buildings WHERE unit_code = ANY(:units))"),
        {"units": units},
    )
    if inventory:
        session.execute(text("CREATE INDEX ON coverage_parts USING gist (geom)"))
    session.execute(text("ANALYZE coverage_parts"))


def compute_units(session: Session, definition: Definition, units: list[str]) -> dict[str, UnitFigure]:
    """The figures of ``units`` (codes); a unit without a built-up area gets zeros."""
    figures = {code: UnitFigure(code) for code in units}
    if not units:
        return figures
    params = {"year": year_of(definition), "units": units}
    for code, year, area in session.execute(text(f"SELECT unit_code, year, area_m2 FROM ({BUILT_SQL}) b"), params):
        figures[code].built_up_year, figures[code].built_up_m2 = year, area
    params = _selection(definition, units)
    store_missing_parts(session, SELECTED_SQL, params)
    for statement in TUNING_SQL:
        session.execute(text(statement))
    rows = session.execute(text(AREAS_SQL), params)
    for code, dimension, key, area in rows:
        figure = figures[code]
        if dimension == "total":
            figure.covered_m2 = float(area or 0.0)
        elif dimension == "kind":
            figure.by_kind[key] = float(area or 0.0)
        else:
            figure.by_level[level_name(int(key))] = float(area or 0.0)
    if session.scalar(
        text("SELECT EXISTS (SELECT 1 FROM coverage_inventory_buildings WHERE unit_code = ANY(:units))"),
        {"units": units},
    ):
        prepare_parts(session, definition, units)
        _count_buildings(session, definition, figures)
    return figures


def _count_buildings(session: Session, definition: Definition, figures: dict[str, UnitFigure]) -> None:
    rows = session.execute(
        text(
            """SELECT i.unit_code, count(*),
                      count(*) FILTER (WHERE c.covered >= :share * ST_Area(i.footprint::geography))
                 FROM coverage_inventory_buildings i
                 LEFT JOIN LATERAL (
                   SELECT COALESCE(ST_Area(ST_Union(ST_CollectionExtract(
                            ST_Intersection(p.geom, i.footprint), 3))::geography), 0) AS covered
                     FROM coverage_parts p WHERE ST_Intersects(p.geom, i.footprint)
                 ) c ON true
                WHERE i.unit_code = ANY(:units)
                GROUP BY i.unit_code"""
        ),
        {"units": list(figures), "share": definition.count_share},
    )
    for code, total, covered in rows:
        figures[code].buildings, figures[code].buildings_covered = int(total), int(covered)


def add_up(code: str, parts: list[UnitFigure]) -> UnitFigure:
    """The sum of units that do not overlap (the city: its districts and banners)."""
    total = UnitFigure(code, built_up_m2=sum(p.built_up_m2 for p in parts), covered_m2=sum(p.covered_m2 for p in parts))
    years = [p.built_up_year for p in parts if p.built_up_year is not None]
    total.built_up_year = max(years) if years else None
    for part in parts:
        for key, value in part.by_kind.items():
            total.by_kind[key] = total.by_kind.get(key, 0.0) + value
        for key, value in part.by_level.items():
            total.by_level[key] = total.by_level.get(key, 0.0) + value
        if part.buildings is not None:
            total.buildings = (total.buildings or 0) + part.buildings
            total.buildings_covered = (total.buildings_covered or 0) + (part.buildings_covered or 0)
    return total

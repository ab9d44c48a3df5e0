"""The coverage computed in PostGIS, per unit: built-up area, covered area, breakdown, building counts.

Published footprints are dumped into their polygons once (a temporary table with a GIST index, invalid
polygons made valid), kept whole where they lie within the built-up area and clipped otherwise,
clustered where they touch or overlap and unioned within clusters (overlaps count once), and measured
on the ellipsoid (``geography``). Every unit is computed independently, so a snapshot
recomputes only the units whose inputs changed (``snapshots.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from cim_platform.coverage.definition import Definition
from cim_platform.coverage.levels import LEVEL_SQL, level_name

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


# Clip the parts to the built-up areas (whole where within); identical pieces (the same footprint in
# several datasets, e.g. LOD1 and LOD2 of one inventory) count once; the remaining pieces are clustered
# where they touch or overlap (ST_ClusterDBSCAN, distance 0) and unioned only within their cluster: a
# piece alone in its cluster is measured as it is. Each kind's and each level's union is measured the same
# way within the same clusters. Areas on the ellipsoid (geography).
AREAS_SQL = f"""
    WITH built AS ({BUILT_SQL}),
    pieces AS MATERIALIZED (
      SELECT b.unit_code, p.kind, p.level,
             CASE WHEN ST_Within(p.geom, b.geom) THEN p.geom
                  ELSE ST_CollectionExtract(ST_Intersection(p.geom, b.geom), 3) END AS g
        FROM built b JOIN coverage_parts p ON ST_Intersects(p.geom, b.geom)
    ),
    distinct_pieces AS MATERIALIZED (
      SELECT unit_code, g, array_agg(DISTINCT kind) AS kinds, array_agg(DISTINCT level) AS levels
        FROM pieces WHERE NOT ST_IsEmpty(g) GROUP BY unit_code, g
    ),
    clustered AS MATERIALIZED (
      SELECT unit_code, g, kinds, levels, ST_Area(g::geography) AS ga,
             ST_ClusterDBSCAN(g, 0, 1) OVER (PARTITION BY unit_code) AS c
        FROM distinct_pieces
    ),
    sized AS MATERIALIZED (
      SELECT *, count(*) OVER (PARTITION BY unit_code, c) AS n FROM clustered
    ),
    by_kind AS MATERIALIZED (
      SELECT unit_code, c, kind, g, ga, count(*) OVER (PARTITION BY unit_code, c, kind) AS n
        FROM sized, unnest(kinds) AS kind
    ),
    by_level AS MATERIALIZED (
      SELECT unit_code, c, level, g, ga, count(*) OVER (PARTITION BY unit_code, c, level) AS n
        FROM sized, unnest(levels) AS level
    ),
    measured AS (
      SELECT unit_code, 'total' AS dim, '' AS key, ga AS a FROM sized WHERE n = 1
      UNION ALL
      SELECT unit_code, 'total', '', ST_Area(ST_Union(g)::geography) FROM sized WHERE n > 1 GROUP BY unit_code, c
      UNION ALL
      SELECT unit_code, 'kind', kind, ga FROM by_kind WHERE n = 1
      UNION ALL
      SELECT unit_code, 'kind', kind, ST_Area(ST_Union(g)::geography) FROM by_kind WHERE n > 1
       GROUP BY unit_code, c, kind
      UNION ALL
      SELECT unit_code, 'level', level::text, ga FROM by_level WHERE n = 1
      UNION ALL
      SELECT unit_code, 'level', level::text, ST_Area(ST_Union(g)::geography) FROM by_level WHERE n > 1
       GROUP BY unit_code, c, level
    )
    SELECT unit_code, dim, key, sum(a) FROM measured GROUP BY unit_code, dim, key
"""


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


def prepare_parts(session: Session, definition: Definition, units: list[str]) -> None:
    """The polygons of the selected footprints near the units' built-up areas or inventories (bounding
    boxes), made valid, in a temporary table (GIST-indexed when an inventory needs it)."""
    session.execute(text("DROP TABLE IF EXISTS coverage_parts"))
    session.execute(
        text(
            f"""CREATE TEMPORARY TABLE coverage_parts ON COMMIT DROP AS
                WITH built AS ({BUILT_SQL}),
                inv AS (SELECT ST_SetSRID(ST_Extent(footprint)::geometry, 4326) AS ext
                          FROM coverage_inventory_buildings WHERE unit_code = ANY(:units)),
                near AS (SELECT geom FROM built UNION ALL SELECT ext FROM inv WHERE ext IS NOT NULL),
                dumped AS (
                  SELECT s.kind, s.level, (ST_Dump(s.footprint)).geom AS geom FROM ({SELECTED_SQL}) s
                   WHERE EXISTS (SELECT 1 FROM near WHERE near.geom && s.footprint)
                )
                SELECT kind, level,
                       CASE WHEN ST_IsValid(geom) THEN geom ELSE ST_CollectionExtract(ST_MakeValid(geom), 3) END AS geom
                  FROM dumped d
                 WHERE EXISTS (SELECT 1 FROM near WHERE near.geom && d.geom)"""
        ),
        {"level": definition.level, "kind": definition.kind, "year": year_of(definition), "units": units},
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
    prepare_parts(session, definition, units)
    params = {"year": year_of(definition), "units": units}
    for code, year, area in session.execute(text(f"SELECT unit_code, year, area_m2 FROM ({BUILT_SQL}) b"), params):
        figures[code].built_up_year, figures[code].built_up_m2 = year, area
    rows = session.execute(text(AREAS_SQL), params)
    for code, dimension, key, area in rows:
        figure = figures[code]
        if dimension == "total":
            figure.covered_m2 = float(area or 0.0)
        elif dimension == "kind":
            figure.by_kind[key] = float(area or 0.0)
        else:
            figure.by_level[level_name(int(key))] = float(area or 0.0)
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

"""The coverage computed in PostGIS, per unit: built-up area, covered area, breakdown, building counts.

Published footprints are dumped into their polygons once (a temporary table with a GIST index), kept
whole where they lie within the built-up area and clipped otherwise, unioned per unit (overlaps count
once) and measured on the ellipsoid (``geography``). Every unit is computed independently, so a snapshot
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


def prepare_parts(session: Session, definition: Definition) -> None:
    session.execute(text("DROP TABLE IF EXISTS coverage_parts"))
    session.execute(
        text(
            f"""CREATE TEMPORARY TABLE coverage_parts ON COMMIT DROP AS
                SELECT s.kind, s.level, (ST_Dump(s.footprint)).geom AS geom FROM ({SELECTED_SQL}) s"""
        ),
        {"level": definition.level, "kind": definition.kind},
    )
    session.execute(text("CREATE INDEX ON coverage_parts USING gist (geom)"))
    session.execute(text("ANALYZE coverage_parts"))


def compute_units(session: Session, definition: Definition, units: list[str]) -> dict[str, UnitFigure]:
    """The figures of ``units`` (codes); a unit without a built-up area gets zeros."""
    figures = {code: UnitFigure(code) for code in units}
    if not units:
        return figures
    prepare_parts(session, definition)
    params = {"year": year_of(definition), "units": units}
    for code, year, area in session.execute(text(f"SELECT unit_code, year, area_m2 FROM ({BUILT_SQL}) b"), params):
        figures[code].built_up_year, figures[code].built_up_m2 = year, area
    rows = session.execute(
        text(
            f"""WITH built AS ({BUILT_SQL}),
                pieces AS MATERIALIZED (
                  SELECT b.unit_code, p.kind, p.level,
                         CASE WHEN ST_Within(p.geom, b.geom) THEN p.geom
                              ELSE ST_CollectionExtract(ST_Intersection(p.geom, b.geom), 3) END AS g
                    FROM built b JOIN coverage_parts p ON ST_Intersects(p.geom, b.geom)
                )
                SELECT unit_code, 'total', '', ST_Area(ST_Union(g)::geography) FROM pieces GROUP BY unit_code
                UNION ALL
                SELECT unit_code, 'kind', kind, ST_Area(ST_Union(g)::geography) FROM pieces GROUP BY unit_code, kind
                UNION ALL
                SELECT unit_code, 'level', level::text, ST_Area(ST_Union(g)::geography)
                  FROM pieces GROUP BY unit_code, level"""
        ),
        params,
    )
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

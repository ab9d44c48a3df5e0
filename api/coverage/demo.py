"""Demo data: the APPROXIMATE built-up areas and SYNTHETIC district boundaries of ``sample_models/coverage/``
(示例, for demonstration) and a first snapshot. A unit's area of that year or a boundary that exists already
(e.g. loaded by an official) is kept."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from api.coverage.cli import OPERATOR
from cim_platform.core.db.engine import get_engine, session_scope
from cim_platform.core.settings import Settings
from cim_platform.coverage import areas
from cim_platform.coverage.definition import Definition
from cim_platform.coverage.geofiles import read_polygons
from cim_platform.coverage.models import CITY, BuiltUpArea, CoverageUnit
from cim_platform.coverage.snapshots import evaluate

SAMPLE = Path(__file__).resolve().parents[2] / "sample_models" / "coverage" / "ordos_built_up_demo.geojson"
BOUNDARIES = SAMPLE.with_name("ordos_districts_demo.geojson")
NOTE = "approximate, for demonstration — 示例 (sample_models/coverage/make_coverage_samples.py)"
BOUNDARY_SOURCE = "synthetic, approximate, for demonstration — 示例 (not the official boundary)"


def load_boundary_samples(settings: Settings) -> int:
    """The demo boundaries of the units that have none; how many were loaded."""
    features = read_polygons(BOUNDARIES.read_bytes(), BOUNDARIES.name)
    loaded = 0
    with session_scope(get_engine(settings)) as session:
        for feature in features:
            unit = session.get(CoverageUnit, str(feature.properties["unit"]))
            if unit is not None and unit.boundary is None:
                areas.set_boundary(session, OPERATOR, [feature], unit.code, BOUNDARY_SOURCE)
                loaded += 1
    return loaded


def load_coverage_samples(settings: Settings) -> str:
    """Load the demo built-up areas that are missing and take a snapshot; one line saying what happened."""
    features = read_polygons(SAMPLE.read_bytes(), SAMPLE.name)
    with session_scope(get_engine(settings)) as session:
        present = {(unit, year) for unit, year in session.execute(select(BuiltUpArea.unit_code, BuiltUpArea.year))}
        missing = [f for f in features if (str(f.properties["unit"]), int(f.properties["year"])) not in present]
        if missing:
            areas.load_built_up(session, OPERATOR, missing, unit=None, year=None, source="demo", note=NOTE)
    with session_scope(get_engine(settings)) as session:
        result = evaluate(
            session, Definition(count_share=settings.coverage_count_share), store=True, trigger="demo", caller=OPERATOR
        )
        share = result.figures[CITY].share
    return f"{len(missing)} approximate built-up areas loaded (示例), city coverage {(share or 0) * 100:.2f}%"


def demo_step(settings: Settings, base_url: str) -> str:
    """The line ``cim demo`` prints for this domain (api/demo.py calls every domain's ``demo_step``)."""
    boundaries = load_boundary_samples(settings)
    return f"3D-data coverage: {load_coverage_samples(settings)}; {boundaries} synthetic district boundaries (示例)"

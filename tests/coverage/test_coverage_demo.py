"""Demo coverage data: generated deterministically, labelled approximate (示例), loaded once, with a
first snapshot; the demo's footprints over Kangbashi and Dongsheng give a share above zero."""

from __future__ import annotations

import json
import runpy

from shapely.geometry import box, mapping
from sqlalchemy import func, select, text

from api.coverage.demo import BOUNDARIES, SAMPLE, load_boundary_samples, load_coverage_samples
from cim_platform.core.db.engine import session_scope
from cim_platform.coverage.models import BuiltUpArea, Snapshot
from tests.support.coverage import add_dataset


def test_generator_is_deterministic_and_labelled() -> None:
    generated = runpy.run_path(str(SAMPLE.with_name("make_coverage_samples.py")))["build"]()
    stored = json.loads(SAMPLE.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(generated, ensure_ascii=False)) == stored
    assert len(stored["features"]) == 10
    for feature in stored["features"]:
        assert "示例" in feature["properties"]["label"] and "approximate" in feature["properties"]["label"]


def test_demo_loads_once_and_takes_a_snapshot(client, cast, settings) -> None:
    engine = client.app.state.engine
    add_dataset(engine, cast.orgs["institute_a"], [box(109.78, 39.60, 109.80, 39.62)])  # Kangbashi centre
    first = load_coverage_samples(settings)
    assert first.startswith("10 approximate built-up areas loaded") and "city coverage 0.00%" not in first
    again = load_coverage_samples(settings)
    assert again.startswith("0 approximate built-up areas loaded")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(BuiltUpArea)) == 10
        assert session.scalar(select(func.count()).select_from(Snapshot)) == 1  # unchanged inputs: the same one
        assert {a.source for a in session.scalars(select(BuiltUpArea))} == {"demo"}
    body = client.get("/api/v1/coverage").json()
    assert body["city"]["built_up_m2"] > 400e6 and body["snapshot_id"] is not None


def test_demo_boundaries_are_synthetic_labelled_and_served(client, cast, settings) -> None:
    """The demo's district boundaries: deterministic, nine, labelled synthetic (示例) in the file and in the
    API's GeoJSON, not overlapping, each holding its unit's built-up area (to 1 ppm: the file's 0.1 m grid);
    a boundary already set is kept."""
    generated = runpy.run_path(str(SAMPLE.with_name("make_coverage_samples.py")))["build_boundaries"]()
    stored = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    assert json.loads(json.dumps(generated, ensure_ascii=False)) == stored
    assert len(stored["features"]) == 9 and "示例" in stored["description"]
    engine = client.app.state.engine
    official = cast.headers("official")
    custom = json.dumps({"type": "Feature", "properties": {}, "geometry": mapping(box(108.0, 39.0, 108.5, 39.5))})
    answer = client.put(
        "/api/v1/coverage/units/150625/boundary",
        headers=official,
        data={"source": "land survey 2024"},
        files={"file": ("hanggin.geojson", custom.encode())},
    )
    assert answer.status_code == 200, answer.text
    assert load_boundary_samples(settings) == 8
    assert load_boundary_samples(settings) == 0
    load_coverage_samples(settings)
    body = client.get("/api/v1/coverage/boundaries").json()  # public, like the units
    sources = {f["properties"]["unit"]: f["properties"]["source"] for f in body["features"]}
    assert len(sources) == 9 and sources["150625"] == "land survey 2024"
    assert all("示例" in s and "synthetic" in s for code, s in sources.items() if code != "150625")
    one = client.get("/api/v1/coverage/boundaries?unit=dongsheng").json()["features"]
    assert [f["properties"]["unit"] for f in one] == ["150602"] and one[0]["properties"]["area_m2"] > 1e9
    with session_scope(engine) as session:
        outside = session.execute(
            text(
                """SELECT b.unit_code FROM coverage_built_up_areas b JOIN coverage_units u ON u.code = b.unit_code
                    WHERE u.parent_code IS NULL AND u.code <> '150625'
                      AND ST_Area(ST_Difference(b.geom, u.boundary)::geography) > 1e-6 * b.area_m2"""
            )
        ).all()
        overlaps = session.scalar(
            text(
                """SELECT coalesce(max(ST_Area(ST_Intersection(a.boundary, b.boundary)::geography)), 0)
                     FROM coverage_units a JOIN coverage_units b ON a.code < b.code
                    WHERE a.code <> '150625' AND b.code <> '150625'"""
            )
        )
    assert outside == [] and overlaps < 1000

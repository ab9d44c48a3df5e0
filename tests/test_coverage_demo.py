"""Demo coverage data: generated deterministically, labelled approximate (示例), loaded once, with a
first snapshot; the demo's footprints over Kangbashi and Dongsheng give a share above zero."""

from __future__ import annotations

import json
import runpy

from shapely.geometry import box
from sqlalchemy import func, select

from api.coverage.demo import SAMPLE, load_coverage_samples
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

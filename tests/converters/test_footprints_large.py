"""Large layers (tile workers extrude their own buildings) give the same blocks as small layers."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from converters.api import convert
from converters.options import ConvertOptions
from tests.support.glb_reading import SAMPLES, ecef_positions, nearest_distances
from tests.support.validators import assert_output_valid


def _layer(tmp_path: Path) -> Path:
    data = json.loads((SAMPLES / "ordos_footprints.geojson").read_text())
    x, y = 109.795, 39.605
    square = [[x, y], [x + 0.0004, y], [x + 0.0004, y + 0.0003], [x, y + 0.0003], [x, y]]
    other = [[x + 0.001, y], [x + 0.0012, y], [x + 0.0012, y + 0.0002], [x + 0.001, y]]
    data["features"].append({"type": "Feature", "properties": {"id": "multi", "height_m": 7.0, "base_m": 1290.0},
                             "geometry": {"type": "MultiPolygon", "coordinates": [[square], [other]]}})
    data["features"].append({"type": "Feature", "properties": {"id": "bowtie", "height_m": 7.0, "base_m": 1290.0},
                             "geometry": {"type": "Polygon", "coordinates": [[[x, y + 0.001], [x + 0.0003, y + 0.0013],
                                                                              [x + 0.0003, y + 0.001],
                                                                              [x, y + 0.0013], [x, y + 0.001]]]}})
    path = tmp_path / "layer.geojson"
    path.write_text(json.dumps(data))
    return path


def test_large_layer_path_matches_small_layer_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _layer(tmp_path)
    options = ConvertOptions(height_field="height_m", base_field="base_m")
    small = convert(source, tmp_path / "small", options)
    monkeypatch.setattr(importlib.import_module("converters.footprints.convert"), "EXACT_MAX", 0)
    large = convert(source, tmp_path / "large", ConvertOptions(height_field="height_m", base_field="base_m", jobs=2))
    for key in ("features", "buildings", "skipped", "triangles", "footprint_vertices"):
        assert large["counts"][key] == small["counts"][key], key
    assert large["skipped_by_reason"] == small["skipped_by_reason"] == {"invalid polygon: Self-intersection": 1}
    assert large["footprint_area_m2"] == pytest.approx(small["footprint_area_m2"], rel=1e-3)
    assert large["footprint_wgs84"]["type"] in ("Polygon", "MultiPolygon")
    assert_output_valid(tmp_path / "large")
    a, b = ecef_positions(tmp_path / "large"), ecef_positions(tmp_path / "small")
    assert len(a) == len(b)
    assert nearest_distances(a, b).max() < 0.01 and nearest_distances(b, a).max() < 0.01
    # the same through the parallel parse (cleaning and the convexity test run in the parse workers)
    monkeypatch.setattr(importlib.import_module("converters.footprints.geojson_parallel"), "MIN_PARALLEL_BYTES", 0)
    parallel = convert(source, tmp_path / "parallel", ConvertOptions(height_field="height_m", base_field="base_m",
                                                                     jobs=2))
    assert parallel["counts"] == large["counts"] and parallel["skipped"] == large["skipped"]
    assert parallel["footprint_area_m2"] == pytest.approx(large["footprint_area_m2"], rel=1e-9)
    assert_output_valid(tmp_path / "parallel")

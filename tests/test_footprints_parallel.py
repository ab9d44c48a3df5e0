"""The parallel GeoJSON reader gives exactly what the ordinary reader gives, or declines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from converters.footprints import geojson_parallel
from converters.footprints.sources import read_geojson


def _collection(count: int, tail: dict[str, object] | None = None, tricky: bool = False) -> dict[str, object]:
    features: list[dict[str, object]] = []
    for i in range(count):
        ring = [[i, 0], [i + 0.5, 0], [i + 0.5, 0.5], [i, 0.5], [i, 0]]
        props: dict[str, object] = {"id": f"B{i}", "height": 3.0 + i % 5, "note": "a},{b" if tricky else "ab"}
        if tricky and i % 7 == 0:
            props["extra"] = [{"x": 1}, {"y": 2}]
        features.append({"type": "Feature", "properties": props,
                         "geometry": None if i == 5 else {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": features, **(tail or {})}


@pytest.mark.parametrize("indent", [None, 1])
def test_parallel_read_matches_serial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, indent: int | None) -> None:
    monkeypatch.setattr(geojson_parallel, "MIN_PARALLEL_BYTES", 0)
    path = tmp_path / "f.geojson"
    path.write_text(json.dumps(_collection(300), indent=indent))
    result = geojson_parallel.read_parallel(path.read_bytes(), 3)
    assert result is not None
    head, (geometries, columns, problems, known_valid) = result
    serial = read_geojson(path)
    assert head["type"] == "FeatureCollection"
    assert columns == serial.properties and problems == serial.problems == {5: "no geometry"}
    assert list(columns) == list(serial.properties)
    assert known_valid.dtype == bool and known_valid.sum() == 299 and not known_valid[5]  # squares: convex
    assert bool(shapely.equals_exact(geometries[geometries != None], serial.geometries[serial.geometries != None], 0)  # noqa: E711
                .all())


def test_parallel_read_declines_when_not_cuttable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geojson_parallel, "MIN_PARALLEL_BYTES", 0)
    trailing = json.dumps(_collection(50, {"bbox": [0, 0, 50, 1]})).encode()
    assert geojson_parallel.read_parallel(trailing, 2) is None
    assert geojson_parallel.read_parallel(b'{"type": "FeatureCollection", "features": []}', 2) is None
    tricky = tmp_path / "t.geojson"
    tricky.write_text(json.dumps(_collection(300, tricky=True)))
    result = geojson_parallel.read_parallel(tricky.read_bytes(), 3)
    assert result is None or result[1][1] == read_geojson(tricky).properties

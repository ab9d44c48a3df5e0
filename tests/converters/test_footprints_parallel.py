"""The parallel GeoJSON reader gives exactly what the ordinary reader gives, or declines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely

from converters.footprints import geojson_parallel
from converters.footprints.sources import read_geojson


def _collection(count: int, tail: dict[str, object] | None = None, tricky: range = range(0)) -> dict[str, object]:
    """``count`` square footprints (feature 5 without geometry); the features numbered in ``tricky`` hold
    ``},{`` inside a string and, every seventh, inside a nested list of objects."""
    features: list[dict[str, object]] = []
    for i in range(count):
        ring = [[i, 0], [i + 0.5, 0], [i + 0.5, 0.5], [i, 0.5], [i, 0]]
        props: dict[str, object] = {"id": f"B{i}", "height": 3.0 + i % 5, "note": "a},{b" if i in tricky else "ab"}
        if i in tricky and i % 7 == 0:
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


def test_parallel_read_declines_a_cut_inside_a_string(monkeypatch: pytest.MonkeyPatch) -> None:
    """The middle of the features array lies in a long text full of ``},{``: the cut lands there, the
    range does not parse as whole features, and the reader declines."""
    monkeypatch.setattr(geojson_parallel, "MIN_PARALLEL_BYTES", 0)
    collection = _collection(3)
    features = collection["features"]
    assert isinstance(features, list)
    features[1]["properties"]["note"] = "},{" * 2000
    data = json.dumps(collection).encode()
    cut = geojson_parallel._ranges(data, 2)
    assert cut is not None  # the document can be cut: the reader gets as far as parsing the ranges
    first_end = cut[1][0][1]
    assert data.index(b"},{") < first_end < data.rindex(b"},{")  # …and the cut is inside the text
    assert geojson_parallel.read_parallel(data, 2) is None


def test_parallel_read_keeps_boundaries_inside_strings_and_objects(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``},{`` inside strings and nested objects of features away from the cuts is read as it is."""
    monkeypatch.setattr(geojson_parallel, "MIN_PARALLEL_BYTES", 0)
    tricky = tmp_path / "t.geojson"
    tricky.write_text(json.dumps(_collection(300, tricky=range(30))))  # all in the first of three ranges
    data = tricky.read_bytes()
    cut = geojson_parallel._ranges(data, 3)
    assert cut is not None and len(cut[1]) == 3
    result = geojson_parallel.read_parallel(data, 3)
    assert result is not None
    _, (geometries, columns, problems, _) = result
    serial = read_geojson(tricky)
    assert columns == serial.properties and problems == serial.problems == {5: "no geometry"}
    assert columns["note"][:30] == ["a},{b"] * 30 and columns["note"][30:] == ["ab"] * 270
    assert columns["extra"][0] == [{"x": 1}, {"y": 2}] and columns["extra"][1] is None
    assert bool(shapely.equals_exact(geometries[geometries != None], serial.geometries[serial.geometries != None], 0)  # noqa: E711
                .all())

"""No footprint content is unbounded: buildings that share one place (a layer of identical polygons,
the attacker's probe of issue 18) are shared out over several tiles by count, and the report says so."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from converters.api import convert
from converters.footprints.quadtree import build_quadtree
from converters.footprints.writer import MAX_TILE_TRIANGLES
from converters.options import ConvertOptions
from tests.support.validators import assert_output_valid
from tiles.glb import read_glb


def test_coincident_buildings_are_shared_out_by_weight() -> None:
    n = 1000
    lo = np.zeros((n, 3))
    hi = np.ones((n, 3))
    weights = np.full(n, 100, dtype=np.int64)
    root = build_quadtree(lo, hi, weights, max_weight=1_000, parent_weight=500)
    nodes, stack = [], [root]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.children)
    assert max(int(weights[node.keys].sum()) for node in nodes) <= 1_000
    assert sorted(np.concatenate([node.keys for node in nodes]).tolist()) == list(range(n))  # each once
    assert any(node.split_by_count for node in nodes)


def test_identical_polygons_never_make_one_huge_content(tmp_path: Path) -> None:
    ring = [[109.78, 39.61], [109.78005, 39.61], [109.78005, 39.61005], [109.78, 39.61005], [109.78, 39.61]]
    features = [
        {"type": "Feature", "properties": {"height": 10.0}, "geometry": {"type": "Polygon", "coordinates": [ring]}}
        for _ in range(20_000)
    ]
    source = tmp_path / "same_place.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    out = tmp_path / "out"
    report = convert(source, out, ConvertOptions(height_field="height", jobs=1))
    assert report["counts"]["buildings"] == 20_000
    assert report["warnings"] and "shared out over several tiles" in report["warnings"][0]
    contents = sorted((out / "blocks").glob("*.glb"))
    assert len(contents) > 1
    for content in contents:
        gltf, _ = read_glb(content.read_bytes())
        triangles = sum(
            gltf["accessors"][p["indices"]]["count"] // 3 for m in gltf["meshes"] for p in m["primitives"]
        )
        assert triangles <= MAX_TILE_TRIANGLES, (content.name, triangles)
    assert_output_valid(out)

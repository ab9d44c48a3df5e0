"""Coarse levels of detail for IFC: inner tiles hold the building merged and simplified (REPLACE
refinement), keep its silhouette in fewer triangles, and carry the simplification error."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from converters.api import convert
from converters.options import ConvertOptions
from tests.support.glb_reading import glb_positions
from tests.support.validators import assert_output_valid
from tiles.glb import read_accessor, read_glb
from tiles.hierarchy import Item, build_lod_hierarchy

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_ifc_samples", REPO / "sample_models" / "make_ifc_samples.py")
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def tower(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("tower")
    ifc = samples.make_tower(base / "tower.ifc")
    out = base / "out"
    return out, convert(ifc, out, ConvertOptions(jobs=2))


def _tiles(tile: dict[str, Any], parent_error: float = float("inf")) -> list[tuple[dict[str, Any], float]]:
    found = [(tile, parent_error)]
    for child in tile.get("children", []):
        found += _tiles(child, tile["geometricError"])
    return found


def _triangles(path: Path) -> int:
    gltf, binary = read_glb(path.read_bytes())
    return sum(
        len(read_accessor(gltf, binary, p["indices"])) // 3 for mesh in gltf["meshes"] for p in mesh["primitives"]
    )


def _classes(path: Path) -> set[str]:
    gltf, binary = read_glb(path.read_bytes())
    meta = gltf["extensions"]["EXT_structural_metadata"]
    table = meta["propertyTables"][0]
    column = table["properties"]["IfcClass"]
    values = binary[
        gltf["bufferViews"][column["values"]]["byteOffset"] : gltf["bufferViews"][column["values"]]["byteOffset"]
        + gltf["bufferViews"][column["values"]]["byteLength"]
    ]
    if "enumType" in meta["schema"]["classes"]["element"]["properties"]["IfcClass"]:
        enum = meta["schema"]["enums"][meta["schema"]["classes"]["element"]["properties"]["IfcClass"]["enumType"]]
        names = {v["value"]: v["name"] for v in enum["values"]}
        dtype = np.uint8 if enum.get("valueType", "UINT16") == "UINT8" else np.uint16
        return {names[int(c)] for c in np.frombuffer(values, dtype)[: table["count"]]}
    view = gltf["bufferViews"][column["stringOffsets"]]
    dtype = np.uint32 if column.get("stringOffsetType") == "UINT32" else np.uint16
    offsets = np.frombuffer(binary, dtype, table["count"] + 1, view["byteOffset"])
    return {values[offsets[i] : offsets[i + 1]].decode() for i in range(table["count"])}


def test_coarse_root_keeps_the_silhouette_in_fewer_triangles(tower) -> None:
    out, report = tower
    assert_output_valid(out)
    tileset = json.loads((out / "tileset.json").read_text())
    root = tileset["root"]
    assert root["refine"] == "REPLACE" and "content" in root
    leaves = [t for t, _ in _tiles(root) if not t.get("children")]
    assert leaves and all("content" in t and t["geometricError"] == 0 for t in leaves)
    coarse_path = out / root["content"]["uri"]
    leaf_paths = [out / t["content"]["uri"] for t in leaves]
    coarse_triangles = _triangles(coarse_path)
    leaf_triangles = sum(_triangles(p) for p in leaf_paths)
    assert leaf_triangles == report["triangles"]
    assert 0 < coarse_triangles <= 0.6 * leaf_triangles, (coarse_triangles, leaf_triangles)
    # silhouette: plan hull area and height range of the coarse content match the full model's
    coarse = glb_positions(coarse_path.read_bytes())
    full = np.concatenate([glb_positions(p.read_bytes()) for p in leaf_paths])
    coarse_area = shapely.MultiPoint(coarse[:, :2]).convex_hull.area
    full_area = shapely.MultiPoint(full[:, :2]).convex_hull.area
    assert abs(coarse_area / full_area - 1) < 0.03, (coarse_area, full_area)
    assert abs(coarse[:, 2].min() - full[:, 2].min()) < 0.05 and abs(coarse[:, 2].max() - full[:, 2].max()) < 0.05
    # the coarse content keeps per-element features: the slabs and walls that make the silhouette
    classes = _classes(coarse_path)
    assert {"IfcSlab", "IfcWall"} <= classes


def test_geometric_errors_come_from_the_simplification_and_decrease(tower) -> None:
    out, report = tower
    tileset = json.loads((out / "tileset.json").read_text())
    for tile, parent_error in _tiles(tileset["root"]):
        assert tile["geometricError"] <= parent_error
    coarse = {c["content"]: c for c in report["tiles"]["coarse"]}
    root = tileset["root"]
    assert root["geometricError"] == pytest.approx(coarse[root["content"]["uri"]]["geometric_error_m"], abs=1e-3)
    # an error of metres for a 30 m × 21 m building: coarse, not zero, not the whole building
    assert 0.05 < root["geometricError"] < 10.0
    assert tileset["geometricError"] >= root["geometricError"]


def test_lod_hierarchy_splits_into_bounded_leaves_under_inner_nodes() -> None:
    rng = np.random.default_rng(3)
    items = []
    for key in range(200):
        lo = rng.uniform(0, 100, 3)
        items.append(Item(key, lo, lo + 1.0, int(rng.integers(10, 100))))
    root = build_lod_hierarchy(items, max_weight=1000)

    def check(node) -> set[int]:
        if not node.children:
            assert sum(items[k].weight for k in node.keys) <= 1000 or len(node.keys) == 1
            return set(node.keys)
        below = set().union(*(check(c) for c in node.children))
        assert set(node.keys) == below  # an inner node stands for its whole subtree
        return below

    assert check(root) == set(range(200))

"""Mesh glb writer and hierarchy: validator-clean, positions decode back, metadata readable, rules hold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from converters.georef import gltf_to_enu
from tests.support.validators import assert_glb_valid, assert_output_valid
from tiles.glb import read_accessor, read_glb
from tiles.hierarchy import Item, build_hierarchy, to_tiles
from tiles.instancing import InstanceGroup
from tiles.mesh import Material, MeshPart, write_mesh_glb
from tiles.tileset import Tileset

CUBE_TRIANGLES = np.array(
    [
        [0, 1, 2],
        [0, 2, 3],
        [4, 6, 5],
        [4, 7, 6],
        [0, 4, 5],
        [0, 5, 1],
        [1, 5, 6],
        [1, 6, 2],
        [2, 6, 7],
        [2, 7, 3],
        [3, 7, 4],
        [3, 4, 0],
    ]
)


def _cube(lo, size: float) -> np.ndarray:
    corners = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]])
    return np.asarray(lo, dtype=np.float64) + corners * size


def _parts(n: int, spacing: float = 3.0) -> list[MeshPart]:
    return [
        MeshPart(_cube([i * spacing, (i % 7) * 2.0, 0.0], 1.0 + (i % 3)), None, CUBE_TRIANGLES, i % 2, i)
        for i in range(n)
    ]


MATERIALS = [Material("concrete", (0.7, 0.7, 0.7, 1.0)), Material("glass", (0.4, 0.6, 0.9, 0.3))]


def _decoded_positions(data: bytes) -> list[tuple[np.ndarray, np.ndarray]]:
    gltf, binary = read_glb(data)
    node = gltf["nodes"][0]
    matrix = np.array(node["matrix"]).reshape(4, 4, order="F") if "matrix" in node else np.eye(4)
    if "translation" in node:
        matrix[:3, 3] = node["translation"]
    out = []
    for primitive in gltf["meshes"][0]["primitives"]:
        accessor = gltf["accessors"][primitive["attributes"]["POSITION"]]
        values = read_accessor(gltf, binary, primitive["attributes"]["POSITION"]).astype(np.float64)
        if accessor.get("normalized"):
            values = np.maximum(values / 32767.0, -1.0)
        ids = read_accessor(gltf, binary, primitive["attributes"]["_FEATURE_ID_0"]).astype(int)
        out.append((gltf_to_enu((np.c_[values, np.ones(len(values))] @ matrix.T)[:, :3]), ids))
    return out


def _same_point_sets(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    distances = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)
    return bool(distances.min(axis=1).max() < tolerance and distances.min(axis=0).max() < tolerance)


@pytest.mark.parametrize("compress", [True, False])
def test_mesh_glb_valid_and_positions_decode(tmp_path: Path, compress: bool) -> None:
    parts = _parts(10)
    features = {
        "GlobalId": [f"id{i}" for i in range(10)],
        "IsExternal": [i % 2 == 0 for i in range(10)],
        "Height": [float(i) if i % 3 else None for i in range(10)],
        "Name": ["墙", *[f"wall {i}" for i in range(1, 10)]],
        "Storey": ["1F"] * 5 + ["2F"] * 4 + [None],
    }
    content = write_mesh_glb(parts, MATERIALS, features, path=tmp_path / "m.glb", compress=compress)
    assert content.quantized is compress
    assert_glb_valid(tmp_path / "m.glb")
    decoded = _decoded_positions(content.data)
    positions = np.concatenate([d[0] for d in decoded])
    ids = np.concatenate([d[1] for d in decoded])
    for part in parts:  # every element's vertices come back (welded, reordered) under its feature ID
        assert _same_point_sets(positions[ids == part.feature], part.positions, 0.002)
    if compress:
        gltf, _ = read_glb(content.data)
        assert {"EXT_meshopt_compression", "KHR_mesh_quantization"} <= set(gltf["extensionsRequired"])
        assert content.vertex_count == 8 * len(parts)  # smooth-shaded cubes weld to their 8 corners
    gltf, binary = read_glb(content.data)
    table = gltf["extensions"]["EXT_structural_metadata"]["propertyTables"][0]
    assert table["count"] == 10
    props = gltf["extensions"]["EXT_structural_metadata"]["schema"]["classes"]["element"]["properties"]
    assert props["IsExternal"]["type"] == "BOOLEAN" and props["Name"]["type"] == "STRING"
    assert props["Storey"] == {"type": "ENUM", "enumType": "element_Storey_values", "noData": "(no value)"}
    schema = gltf["extensions"]["EXT_structural_metadata"]["schema"]
    enum = {v["value"]: v["name"] for v in schema["enums"]["element_Storey_values"]["values"]}
    storey_view = gltf["bufferViews"][table["properties"]["Storey"]["values"]]
    codes = np.frombuffer(binary, np.uint8, 10, storey_view["byteOffset"])
    assert [enum[c] for c in codes] == ["1F"] * 5 + ["2F"] * 4 + ["(no value)"]
    assert props["Height"]["noData"] < -1e300
    view = gltf["bufferViews"][table["properties"]["Name"]["values"]]
    offsets_view = gltf["bufferViews"][table["properties"]["Name"]["stringOffsets"]]
    assert table["properties"]["Name"]["stringOffsetType"] == "UINT16"
    offsets = np.frombuffer(binary, np.uint16, 11, offsets_view["byteOffset"])
    names = binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]]
    assert names[offsets[0] : offsets[1]].decode() == "墙"
    assert all(v["byteOffset"] % 8 == 0 for v in gltf["bufferViews"])
    primitive = gltf["meshes"][0]["primitives"][1]
    assert gltf["materials"][primitive["material"]]["alphaMode"] == "BLEND"
    ids = read_accessor(gltf, binary, primitive["attributes"]["_FEATURE_ID_0"])
    assert set(ids.astype(int)) == {1, 3, 5, 7, 9}


def test_compression_reduces_bytes() -> None:
    parts = _parts(50, spacing=1.0)
    features = {"GlobalId": [str(i) for i in range(50)]}
    small = write_mesh_glb(parts, MATERIALS, features, compress=True)
    big = write_mesh_glb(parts, MATERIALS, features, compress=False)
    assert len(small.data) < 0.8 * len(big.data)


def test_large_extent_is_not_quantized() -> None:
    parts = [
        MeshPart(_cube([0, 0, 0], 1), None, CUBE_TRIANGLES, 0, 0),
        MeshPart(_cube([1000, 0, 0], 1), None, CUBE_TRIANGLES, 0, 1),
    ]
    assert not write_mesh_glb(parts, MATERIALS, {"k": [0, 1]}, compress=True).quantized


def test_hierarchy_bounded_content_and_valid_tileset(tmp_path: Path) -> None:
    parts = _parts(400, spacing=2.5)
    items = [Item(i, p.positions.min(axis=0), p.positions.max(axis=0), len(p.triangles)) for i, p in enumerate(parts)]
    root = build_hierarchy(items, max_weight=600, parent_weight=150)
    written: list[int] = []

    def write(node, name):
        chosen = [parts[k] for k in node.keys]
        features = {"key": [k for k in node.keys]}
        renumbered = [MeshPart(p.positions, p.normals, p.triangles, p.material, j) for j, p in enumerate(chosen)]
        content = write_mesh_glb(renumbered, MATERIALS, features, path=tmp_path / f"{name}.glb")
        written.append(content.triangle_count)
        return content.box

    tile = to_tiles(root, write)
    assert max(written) <= 600 and sum(written) == 400 * 12
    assert len(tile.walk()) > 3 and tile.geometric_error > 0
    (tmp_path / "tileset.json").write_text(json.dumps(Tileset(tile, tile.geometric_error * 2).to_dict()))
    assert_output_valid(tmp_path)


def _rotation_z(degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    m = np.eye(4)
    m[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    return m


@pytest.mark.parametrize("compress", [True, False])
def test_instanced_geometry_decodes_to_each_transform(tmp_path: Path, compress: bool) -> None:
    from tests.support.glb_reading import node_instances

    local = _cube([0, 0, 0], 1.0)
    transforms = []
    for i in range(5):
        m = _rotation_z(30.0 * i)
        m[:3, :3] = m[:3, :3] @ np.diag([1.0, 2.0, 0.5])  # rotation × per-axis scale (TRS)
        m[:3, 3] = [10.0 * i, -5.0, 2.0]
        transforms.append(m)
    group = InstanceGroup([MeshPart(local, None, CUBE_TRIANGLES, 1, 0)], np.array(transforms), [1, 2, 3, 4, 5])
    plain = [MeshPart(_cube([0, 20, 0], 2.0), None, CUBE_TRIANGLES, 0, 0)]
    features = {"GlobalId": [f"g{i}" for i in range(6)]}
    content = write_mesh_glb(plain, MATERIALS, features, path=tmp_path / "i.glb", compress=compress, instances=[group])
    assert_glb_valid(tmp_path / "i.glb")
    assert content.triangle_count == 12 * 6
    gltf, binary = read_glb(content.data)
    node = next(n for n in gltf["nodes"] if "extensions" in n)
    assert "EXT_mesh_gpu_instancing" in gltf["extensionsRequired"]
    ids = read_accessor(gltf, binary, node["extensions"]["EXT_mesh_gpu_instancing"]["attributes"]["_FEATURE_ID_0"])
    assert list(ids.astype(int)) == [1, 2, 3, 4, 5]
    assert node["extensions"]["EXT_instance_features"]["featureIds"][0]["propertyTable"] == 0
    primitive = gltf["meshes"][node["mesh"]]["primitives"][0]
    values = read_accessor(gltf, binary, primitive["attributes"]["POSITION"]).astype(np.float64)
    if gltf["accessors"][primitive["attributes"]["POSITION"]].get("normalized"):
        values = np.maximum(values / 32767.0, -1.0)
    node_matrix = np.eye(4)
    node_matrix[:3, 3] = node["translation"]
    lo, hi = content.box.bounds()
    for instance, expected in zip(node_instances(gltf, binary, node), transforms, strict=True):
        yup = (np.c_[values, np.ones(len(values))] @ (node_matrix @ instance).T)[:, :3]
        decoded = gltf_to_enu(yup)
        want = (np.c_[local, np.ones(8)] @ expected.T)[:, :3]
        assert _same_point_sets(decoded, want, 0.002)
        assert np.all(decoded >= lo - 1e-6) and np.all(decoded <= hi + 1e-6)  # inside the content box

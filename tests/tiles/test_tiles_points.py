"""Points glb writer: Khronos-valid, positions back in place, metadata attributes decodable."""

from __future__ import annotations

import json

import numpy as np

from converters.georef import gltf_to_enu
from tests.support.validators import assert_glb_valid, assert_output_valid
from tiles.glb import read_accessor, read_glb
from tiles.points import PointProperty, write_points_glb
from tiles.tileset import Content, Tile, Tileset


def _cloud(n: int = 5000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    positions = rng.uniform([1000, -500, 20], [1100, -420, 60], size=(n, 3))
    colors = rng.integers(0, 256, size=(n, 3), dtype=np.uint8)
    intensity = rng.integers(0, 65535, size=n).astype(np.uint16)
    classification = rng.integers(0, 20, size=n).astype(np.int64)  # converted to uint8
    return positions, colors, intensity, classification


def test_points_glb_is_valid_and_decodes_back(tmp_path) -> None:
    positions, colors, intensity, classification = _cloud()
    content = write_points_glb(
        positions,
        colors=colors,
        properties={"intensity": intensity, "classification": PointProperty(classification, "ASPRS class")},
        path=tmp_path / "p.glb",
    )
    assert content.point_count == len(positions)
    assert_glb_valid(tmp_path / "p.glb")
    gltf, binary = read_glb(content.data)
    primitive = gltf["meshes"][0]["primitives"][0]
    assert primitive["mode"] == 0
    stored = read_accessor(gltf, binary, primitive["attributes"]["POSITION"])
    assert stored.dtype == np.float32
    translation = np.array(gltf["nodes"][0]["translation"])
    back = gltf_to_enu(stored.astype(np.float64) + translation)
    assert np.abs(back - positions).max() < 1e-4
    color_accessor = gltf["accessors"][primitive["attributes"]["COLOR_0"]]
    assert color_accessor["normalized"] is True and color_accessor["componentType"] == 5121
    assert np.array_equal(read_accessor(gltf, binary, primitive["attributes"]["COLOR_0"]), colors)
    metadata = gltf["extensions"]["EXT_structural_metadata"]
    props = metadata["schema"]["classes"]["point"]["properties"]
    assert props["intensity"]["componentType"] == "UINT16"
    assert props["classification"]["componentType"] == "UINT8"
    attribute = metadata["propertyAttributes"][0]["properties"]["classification"]["attribute"]
    assert np.array_equal(read_accessor(gltf, binary, primitive["attributes"][attribute]), classification)
    assert np.array_equal(read_accessor(gltf, binary, primitive["attributes"]["_INTENSITY"]), intensity)


def test_points_tileset_validates(tmp_path) -> None:
    positions, colors, _, _ = _cloud(100)
    content = write_points_glb(positions, colors=colors, path=tmp_path / "p.glb")
    tile = Tile(content.box, 0.0, Content("p.glb", content.box), refine="ADD")
    (tmp_path / "tileset.json").write_text(json.dumps(Tileset(tile, 10.0).to_dict()))
    assert_output_valid(tmp_path)


def test_validator_catches_broken_glb(tmp_path) -> None:
    positions, _, _, _ = _cloud(10)
    data = bytearray(write_points_glb(positions).data)
    data[-4:] = b"\xff\xff\xff\xff"  # still parses; now break the JSON instead
    broken = bytes(data).replace(b'"POSITION":0', b'"POSITION":9')
    report = __import__("tests.support.validators", fromlist=["validate_glb"]).validate_glb(broken)
    assert report["numErrors"] > 0

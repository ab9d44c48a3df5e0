"""Existing 3D Tiles tilesets: a 1.0 tileset (b3dm with a batch table and RTC_CENTER, pnts, i3dm, cmpt,
an external tileset) upgraded to 1.1 glb contents in place, validated, properties kept; implicit tiling
expanded; hostile and unplaced archives refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from converters.api import convert, detect_kind
from converters.errors import ConversionError, GeoreferencingError
from converters.options import ConvertOptions
from sample_models.tilesets.make_tileset_samples import BUILDINGS, FRAME, TREES, _box, point_positions, write_zip
from tests.support.osgb import contents, ecef_positions, hostile_zip, legacy_tileset_zip, property_table, subtree_bytes
from tests.support.validators import assert_output_valid
from tiles.glb import read_accessor, read_glb
from tiles.points import write_points_glb


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("legacy")
    archive = legacy_tileset_zip(folder)
    assert detect_kind(archive) == "tileset"
    report = convert(archive, folder / "out", ConvertOptions())
    return folder / "out", report


def test_upgrade_is_valid_1_1(upgraded: tuple[Path, dict]) -> None:
    out, report = upgraded
    entry = assert_output_valid(out)
    assert entry["asset"]["version"] == "1.1"
    files = [p.suffix for p in out.rglob("*") if p.is_file()]
    assert set(files) == {".glb", ".json"}  # no b3dm/pnts/i3dm/cmpt left
    assert report["counts"]["contents_in"] == {"b3dm": 2, "pnts": 2, "i3dm": 1}
    mixed = json.loads((out / "tileset.json").read_text())["root"]["children"][2]
    assert len(mixed["contents"]) == 2  # the cmpt became two contents
    lon, lat = np.array(report["footprint_wgs84"]["coordinates"][0]).T
    assert 109.788 < lon.min() < lon.max() < 109.792 and 39.606 < lat.min() < lat.max() < 39.610
    low, high = report["height_range_m"]
    assert 1285 < low < 1291 and 1330 < high < 1340


def _content(out: Path, name: str) -> tuple[bytes, np.ndarray]:
    for path, world, _tile in contents(out / "tileset.json"):
        if path.name == name:
            return path.read_bytes(), world
    raise AssertionError(f"{name} not in the output")


def test_b3dm_positions_features_and_properties(upgraded: tuple[Path, dict]) -> None:
    out, _ = upgraded
    glb, world = _content(out, "block.glb")
    expected = FRAME.enu_to_ecef(np.concatenate([_box(c, s)[0] for _, c, s, _ in BUILDINGS]))
    got = ecef_positions(glb, world)
    assert got.shape == expected.shape and np.abs(got - expected).max() < 0.005  # RTC_CENTER folded in
    table = property_table(glb)
    assert table["name"] == [b[0] for b in BUILDINGS] and table["floors"] == [6, 15, 10]
    assert np.allclose(table["height_m"], [s[2] for _, _, s, _ in BUILDINGS])
    gltf, binary = read_glb(glb)
    primitive = gltf["meshes"][0]["primitives"][0]
    ids = read_accessor(gltf, binary, primitive["attributes"]["_FEATURE_ID_0"])
    assert sorted(set(ids.astype(int).tolist())) == [0, 1, 2] and "_BATCHID" not in primitive["attributes"]
    assert primitive["extensions"]["EXT_mesh_features"]["featureIds"][0]["propertyTable"] == 0


def test_pnts_and_i3dm(upgraded: tuple[Path, dict]) -> None:
    out, _ = upgraded
    glb, world = _content(out, "ground.glb")
    got = ecef_positions(glb, world)
    assert np.abs(got - FRAME.enu_to_ecef(point_positions())).max() < 0.005
    gltf, binary = read_glb(glb)
    attributes = gltf["meshes"][0]["primitives"][0]["attributes"]
    assert "COLOR_0" in attributes
    intensity = read_accessor(gltf, binary, attributes["_INTENSITY"])
    assert intensity.tolist() == (np.arange(400) % 1000).tolist()
    glb, world = _content(out, "trees.glb")
    gltf, binary = read_glb(glb)
    node = gltf["nodes"][0]
    translations = read_accessor(gltf, binary, node["extensions"]["EXT_mesh_gpu_instancing"]["attributes"]
                                 ["TRANSLATION"]).astype(np.float64)
    z_up = np.c_[translations[:, 0], -translations[:, 2], translations[:, 1]]  # y-up → the tile's z-up
    assert np.abs(z_up - TREES).max() < 1e-4
    scale = read_accessor(gltf, binary, node["extensions"]["EXT_mesh_gpu_instancing"]["attributes"]["SCALE"])
    assert np.allclose(scale[:, 0], [1.0, 1.5, 2.0, 1.0])
    assert property_table(glb)["species"][3] == "pine"


def _implicit_archive(folder: Path) -> Path:
    """A 1.1 quadtree: root and three of its four children available, one subtree file."""
    west, south, east, north = (math.radians(v) for v in (109.78, 39.60, 109.80, 39.62))
    root = {"boundingVolume": {"region": [west, south, east, north, 1280.0, 1300.0]}, "geometricError": 40,
            "refine": "REPLACE", "content": {"uri": "content/{level}/{x}/{y}.glb"},
            "implicitTiling": {"subdivisionScheme": "QUADTREE", "subtreeLevels": 2, "availableLevels": 2,
                               "subtrees": {"uri": "subtrees/{level}/{x}/{y}.subtree"}}}
    tileset = {"asset": {"version": "1.1"}, "geometricError": 80, "root": root}
    bits = bytes([0b00011011])  # index 0 root; 1..4 children in Morton order: (0,0) (1,0) (0,1) (1,1) → (1,0) missing
    subtree = subtree_bytes({"buffers": [{"byteLength": 8}], "bufferViews": [{"buffer": 0, "byteOffset": 0,
                                                                            "byteLength": 1}],
                             "tileAvailability": {"bitstream": 0}, "contentAvailability": [{"bitstream": 0}],
                             "childSubtreeAvailability": {"constant": 0}}, bits)
    files = {"implicit/tileset.json": json.dumps(tileset).encode(), "implicit/subtrees/0/0/0.subtree": subtree}
    for level, x, y in ((0, 0, 0), (1, 0, 0), (1, 0, 1), (1, 1, 1)):
        lon = math.degrees(west + (x + 0.5) * (east - west) / 2**level)
        lat = math.degrees(south + (y + 0.5) * (north - south) / 2**level)
        centre = FRAME.geodetic_to_enu(lon, lat, 1290.0)[0]
        files[f"implicit/content/{level}/{x}/{y}.glb"] = write_points_glb(centre + np.eye(3)).data
    return write_zip(folder / "implicit.zip", files)


def test_implicit_tiling_expanded(tmp_path: Path) -> None:
    archive = _implicit_archive(tmp_path)
    report = convert(archive, tmp_path / "out", ConvertOptions())
    tileset = assert_output_valid(tmp_path / "out")
    root = tileset["root"]
    assert "implicitTiling" not in root and report["counts"]["implicit_roots_expanded"] == 1
    assert root["content"]["uri"].endswith("0/0/0.glb") and len(root["children"]) == 3
    w, s, e, n = root["boundingVolume"]["region"][:4]
    regions = sorted(tuple(c["boundingVolume"]["region"][:2]) for c in root["children"])
    assert np.allclose(regions, [(w, s), (w, (s + n) / 2), ((w + e) / 2, (s + n) / 2)])
    assert {c["geometricError"] for c in root["children"]} == {20.0}


@pytest.mark.parametrize("kind", ["traversal", "absolute", "symlink", "bomb"])
def test_hostile_archives_refused(tmp_path: Path, kind: str) -> None:
    archive = hostile_zip(tmp_path / f"{kind}.zip", kind)
    expected = {"traversal": "unsafe path", "absolute": "unsafe path", "symlink": "symbolic link", "bomb": "zip bomb"}
    with pytest.raises(ConversionError, match=expected[kind]):
        detect_kind(archive)  # at first look (the upload answers 422)
    with pytest.raises(ConversionError, match=expected[kind]):
        convert(archive, tmp_path / "out", ConvertOptions(kind="tileset"))
    assert not list((tmp_path / "out").rglob("evil.txt")) and not (tmp_path.parent / "evil.txt").exists()


def test_unplaced_tileset_refused(tmp_path: Path) -> None:
    tileset = {"asset": {"version": "1.1"}, "geometricError": 10,
               "root": {"boundingVolume": {"box": [0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5]}, "geometricError": 0,
                        "refine": "ADD", "content": {"uri": "a.glb"}}}
    archive = write_zip(tmp_path / "local.zip", {"tileset.json": json.dumps(tileset).encode(),
                                                 "a.glb": write_points_glb(np.eye(3)).data})
    with pytest.raises(GeoreferencingError, match="not placed on the globe"):
        convert(archive, tmp_path / "out", ConvertOptions())


def test_broken_tileset_json_refused(tmp_path: Path) -> None:
    tileset = {"asset": {"version": "1.0"}, "geometricError": 10,
               "root": {"boundingVolume": {"box": [0, 0, 0]}, "geometricError": 0, "content": {"uri": "a.b3dm"}}}
    archive = write_zip(tmp_path / "bad.zip", {"tileset.json": json.dumps(tileset).encode()})
    with pytest.raises(ConversionError, match=r"boundingVolume.box needs 12"):
        convert(archive, tmp_path / "out", ConvertOptions())


def test_z_up_glb_content_turned_y_up(tmp_path: Path) -> None:
    """A 1.0 tileset with ``asset.gltfUpAxis: Z`` (older Cesium exporters): its glb contents are z-up."""
    from tiles.glb import GlbBuilder

    corners, faces = _box((3.0, -4.0), (6.0, 8.0, 10.0))
    builder = GlbBuilder()
    position = builder.add_accessor(corners.astype(np.float32), with_bounds=True)  # z-up, as those tools wrote
    mesh = builder.add_mesh([{"attributes": {"POSITION": position}, "indices": builder.add_indices(faces, 8)}])
    builder.add_node({"mesh": mesh})
    tileset = {"asset": {"version": "1.0", "gltfUpAxis": "Z"}, "geometricError": 10,
               "root": {"transform": FRAME.tileset_transform(), "refine": "ADD", "geometricError": 0,
                        "boundingVolume": {"box": [3, -4, 5, 4, 0, 0, 0, 5, 0, 0, 0, 6]},
                        "content": {"uri": "box.glb"}}}
    archive = write_zip(tmp_path / "zup.zip", {"tileset.json": json.dumps(tileset).encode(),
                                               "box.glb": builder.to_bytes()})
    convert(archive, tmp_path / "out", ConvertOptions())
    assert_output_valid(tmp_path / "out")
    glb, world = _content(tmp_path / "out", "box.glb")
    assert np.abs(ecef_positions(glb, world) - FRAME.enu_to_ecef(corners)).max() < 0.005

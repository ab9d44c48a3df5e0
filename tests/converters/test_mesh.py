"""Scan meshes: placement (crs/origin/rotation/scale/up) to 1 cm, textures and colours kept, split + LOD."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import trimesh

from converters.api import convert
from converters.errors import ConversionError, GeoreferencingError
from converters.options import ConvertOptions
from tests.support.glb_reading import (
    SAMPLES,
    SURVEY,
    ecef_positions,
    expected_ecef,
    iter_contents,
    nearest_distances,
)
from tests.support.validators import assert_output_valid
from tiles.glb import read_glb

ORIGIN = (400000.0, 4390000.0, 1300.0)


@pytest.mark.skipif(not SURVEY.is_dir(), reason="shared survey corpus not mounted")
def test_bunny_needs_placement_then_lands_where_pyproj_says(tmp_path: Path) -> None:
    bunny = SURVEY / "stanford_bunny.ply"
    with pytest.raises(GeoreferencingError, match="no coordinate reference system"):
        convert(bunny, tmp_path / "refused", ConvertOptions())
    options = ConvertOptions(crs="EPSG:4546+5737", origin=ORIGIN, rotation_deg=90.0, scale=10.0, up="y")
    report = convert(bunny, tmp_path / "out", options)
    assert report["counts"]["triangles"] == 16301 and report["crs"]["up_axis"] == "y"
    assert_output_valid(tmp_path / "out")
    vertices = np.asarray(trimesh.load(bunny).vertices)[[0, 1000, 5000]]
    z_up = np.column_stack([vertices[:, 0], -vertices[:, 2], vertices[:, 1]]) * 10.0
    rotated = np.column_stack([-z_up[:, 1], z_up[:, 0], z_up[:, 2]])  # 90° counter-clockwise
    expected = expected_ecef("EPSG:4546+5737", rotated + np.array(ORIGIN))
    assert nearest_distances(ecef_positions(tmp_path / "out"), expected).max() < 0.01


def test_ply_without_faces_is_refused_as_mesh(tmp_path: Path) -> None:
    cloud = tmp_path / "points.ply"
    cloud.write_bytes(trimesh.PointCloud(np.random.default_rng(0).random((100, 3))).export(file_type="ply"))
    with pytest.raises(ConversionError, match="no faces"):
        convert(cloud, tmp_path / "out", ConvertOptions(local=True))


def test_garbage_mesh_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.glb"
    broken.write_bytes(b"glTF\x02\x00\x00\x00garbage")
    with pytest.raises(ConversionError):
        convert(broken, tmp_path / "out", ConvertOptions(local=True))


def test_textured_obj_keeps_its_texture(tmp_path: Path) -> None:
    report = convert(SAMPLES / "stele_scan.obj", tmp_path, ConvertOptions(crs="EPSG:4546+5737", origin=ORIGIN))
    assert report["counts"]["textured_submeshes"] == 1
    assert_output_valid(tmp_path)
    gltf, _ = read_glb(next(iter_contents(tmp_path))[0].read_bytes())
    assert gltf["images"][0]["mimeType"] == "image/png"
    primitive = gltf["meshes"][0]["primitives"][0]
    assert "TEXCOORD_0" in primitive["attributes"]
    assert "baseColorTexture" in gltf["materials"][primitive["material"]]["pbrMetallicRoughness"]


def test_vertex_coloured_ply_keeps_colours(tmp_path: Path) -> None:
    report = convert(SAMPLES / "stele_scan_colour.ply", tmp_path, ConvertOptions(origin=(109.79, 39.608, 1290.0)))
    assert report["counts"]["vertex_coloured_submeshes"] == 1
    assert report["georeferencing"]["mode"] == "origin"
    assert_output_valid(tmp_path)
    gltf, _ = read_glb(next(iter_contents(tmp_path))[0].read_bytes())
    colour = gltf["accessors"][gltf["meshes"][0]["primitives"][0]["attributes"]["COLOR_0"]]
    assert colour["normalized"] is True


def test_large_mesh_is_split_with_simplified_parents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mesh_module = importlib.import_module("converters.mesh.convert")
    monkeypatch.setattr(mesh_module, "MAX_TILE_TRIANGLES", 20_000)
    sphere = trimesh.creation.icosphere(subdivisions=6, radius=20.0)  # 81 920 triangles
    source = tmp_path / "sphere.glb"
    source.write_bytes(sphere.export(file_type="glb"))
    report = mesh_module.convert(source, tmp_path / "out", ConvertOptions(local=True))
    assert report["counts"]["tiles"] >= 7 and report["counts"]["levels"] >= 3
    tileset = assert_output_valid(tmp_path / "out")
    root = tileset["root"]
    assert root["refine"] == "REPLACE" and root["geometricError"] > 0

    def leaves(tile: dict) -> list[dict]:
        return [tile] if not tile.get("children") else [x for c in tile["children"] for x in leaves(c)]

    assert all(leaf["geometricError"] == 0 for leaf in leaves(root))
    gltf, _ = read_glb((tmp_path / "out" / root["content"]["uri"]).read_bytes())
    root_triangles = sum(gltf["accessors"][p["indices"]]["count"] // 3 for p in gltf["meshes"][0]["primitives"])
    assert root_triangles <= 20_000
    leaf_triangles = 0
    for leaf in leaves(root):
        leaf_gltf, _ = read_glb((tmp_path / "out" / leaf["content"]["uri"]).read_bytes())
        leaf_triangles += sum(leaf_gltf["accessors"][p["indices"]]["count"] // 3
                              for p in leaf_gltf["meshes"][0]["primitives"])
    assert leaf_triangles == 81_920  # full detail is kept in the leaves
    assert report["counts"]["triangles"] == 81_920

"""Building footprints → LOD1 blocks: GeoJSON, GeoPackage, CityJSON; heights, skips, closed blocks, georef."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
import trimesh
from shapely.geometry import Polygon

from converters.api import convert
from converters.errors import ConversionError
from converters.footprints.extrude import extrude
from converters.options import ConvertOptions
from tests.support.glb_reading import SAMPLES, ecef_positions, expected_ecef, iter_contents, nearest_distances
from tests.support.validators import assert_output_valid
from tiles.glb import read_glb

GEOJSON = SAMPLES / "ordos_footprints.geojson"
GPKG = SAMPLES / "ordos_footprints.gpkg"
CITYJSON = SAMPLES / "kangbashi_blocks.city.json"


def _features_in_tiles(out_dir: Path) -> int:
    total = 0
    for path, _ in iter_contents(out_dir):
        gltf, _ = read_glb(path.read_bytes())
        total += sum(t["count"] for t in gltf["extensions"]["EXT_structural_metadata"]["propertyTables"])
    return total


def _collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _feature(coords: list, **props: object) -> dict:
    return {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": coords}}


def test_geojson_sample_one_feature_per_building(tmp_path: Path) -> None:
    report = convert(GEOJSON, tmp_path, ConvertOptions(height_field="height_m", base_field="base_m"))
    features = len(json.loads(GEOJSON.read_text())["features"])
    assert report["counts"]["buildings"] == features and report["counts"]["skipped"] == 0
    assert _features_in_tiles(tmp_path) == features
    assert report["crs"]["crs"] == "EPSG:4326"
    assert report["footprint_wgs84"]["type"] in ("Polygon", "MultiPolygon")
    assert report["footprint_area_m2"] > 50_000
    tileset = assert_output_valid(tmp_path)
    assert tileset["root"]["refine"] == "ADD"
    gltf, _ = read_glb(next(iter_contents(tmp_path))[0].read_bytes())
    columns = gltf["extensions"]["EXT_structural_metadata"]["schema"]["classes"]["building"]["properties"]
    assert {"id", "name", "use", "floors", "height_m", "base_m", "year_built", "height_used_m"} <= set(columns)


def test_gpkg_floors_times_storey_height_and_georeferencing(tmp_path: Path) -> None:
    report = convert(GPKG, tmp_path, ConvertOptions(floors_field="floors", storey_height=3.2, base_field="base_m"))
    assert report["crs"]["crs"] == "EPSG:4546" and report["format"] == "GeoPackage"
    assert report["heights"]["source"] == "floors_field"
    assert_output_valid(tmp_path)
    db = sqlite3.connect(GPKG)
    blob, floors, base = db.execute("SELECT geom, floors, base_m FROM buildings ORDER BY fid LIMIT 1").fetchone()
    polygon = shapely.from_wkb(bytes(blob)[8 + 32 :])
    corners = np.asarray(polygon.exterior.coords)[:3]
    roof = np.column_stack([corners, np.full(len(corners), base + floors * 3.2)])
    ground = np.column_stack([corners, np.full(len(corners), base)])
    expected = expected_ecef("EPSG:4546", np.concatenate([roof, ground]))
    # positions are stored quantized (KHR_mesh_quantization, step <= 2 mm)
    assert nearest_distances(ecef_positions(tmp_path), expected).max() < 0.01


def test_missing_height_field_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="no feature has the height field 'hoehe'"):
        convert(GEOJSON, tmp_path, ConvertOptions(height_field="hoehe"))
    source = tmp_path / "no_height.geojson"
    source.write_text(json.dumps(_collection([_feature([[[0, 0], [0.001, 0], [0.001, 0.001], [0, 0]]], name="x")])))
    with pytest.raises(ConversionError, match="carry no height"):
        convert(source, tmp_path / "out", ConvertOptions())


def test_bad_features_are_counted_skips(tmp_path: Path) -> None:
    square = [[[109.79, 39.60], [109.7903, 39.60], [109.7903, 39.6003], [109.79, 39.6003], [109.79, 39.60]]]
    bowtie = [[[109.791, 39.60], [109.7913, 39.6003], [109.7913, 39.60], [109.791, 39.6003], [109.791, 39.60]]]
    features = [
        _feature(square, id="ok", height=12),
        _feature(bowtie, id="bowtie", height=10),
        _feature(square, id="text", height="tall"),
        _feature(square, id="none"),
        _feature(square, id="negative", height=-3),
        {"type": "Feature", "properties": {"id": "line", "height": 5},
         "geometry": {"type": "LineString", "coordinates": [[109.79, 39.6], [109.8, 39.6]]}},
        {"type": "Feature", "properties": {"id": "nogeom", "height": 5}, "geometry": None},
    ]
    source = tmp_path / "bad.geojson"
    source.write_text(json.dumps(_collection(features)))
    report = convert(source, tmp_path / "out", ConvertOptions(height_field="height"))
    assert report["counts"]["buildings"] == 1 and report["counts"]["skipped"] == 6
    reasons = {s["id"]: s["reason"] for s in report["skipped"]}
    assert "Self-intersection" in reasons["bowtie"]
    assert "not a number" in reasons["text"]
    assert "no value" in reasons["none"]
    assert "not positive" in reasons["negative"]
    assert "not a polygon" in reasons["line"]
    assert reasons["nogeom"] == "no geometry"
    assert_output_valid(tmp_path / "out")


def test_nothing_buildable_is_an_error_not_an_empty_tileset(tmp_path: Path) -> None:
    source = tmp_path / "empty.geojson"
    source.write_text(json.dumps(_collection([_feature([[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]], height=3)])))
    with pytest.raises(ConversionError, match="none of the 1 footprints"):
        convert(source, tmp_path / "out", ConvertOptions())


def test_extruded_block_with_courtyard_is_closed_and_outward() -> None:
    outer = [(0, 0), (30, 0), (30, 20), (0, 20)]
    hole = [(10, 5), (10, 15), (20, 15), (20, 5)]
    lshape = Polygon([(40, 0), (60, 0), (60, 10), (50, 10), (50, 30), (40, 30)])
    pentagon = Polygon([(70, 0), (80, 0), (84, 8), (75, 14), (66, 8)])  # convex: fan-triangulated
    geometries = np.array([Polygon(outer, [hole]), lshape, pentagon], dtype=object)
    blocks = extrude(geometries, np.array([100.0, 5.0, 0.0]), np.array([12.0, 7.5, 3.0]), lambda xyz: xyz.copy())
    for building, polygon, height in ((0, geometries[0], 12.0), (1, lshape, 7.5), (2, pentagon, 3.0)):
        walls, wall_normals, wall_tris = blocks.walls(building)
        caps, cap_normals, cap_tris = blocks.caps(building)
        for positions, normals, tris in ((walls, wall_normals, wall_tris), (caps, cap_normals, cap_tris)):
            a, b, c = (positions[tris[:, i]] for i in range(3))
            assert np.all(np.einsum("ij,ij->i", np.cross(b - a, c - a), normals[tris[:, 0]]) > 0)
        mesh = trimesh.Trimesh(np.concatenate([walls, caps]), np.concatenate([wall_tris, cap_tris + len(walls)]))
        mesh.merge_vertices()
        assert mesh.is_watertight and mesh.is_winding_consistent
        assert mesh.volume == pytest.approx(polygon.area * height)  # positive: normals face outwards


def test_legacy_crs_member_and_user_override(tmp_path: Path) -> None:
    e, n = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4546", always_xy=True).transform(109.79, 39.608)
    ring = [[e, n], [e + 20, n], [e + 20, n + 15], [e, n + 15], [e, n]]
    data = _collection([_feature([ring], height=9.0)])
    data["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4546"}}
    source = tmp_path / "gk.geojson"
    source.write_text(json.dumps(data))
    report = convert(source, tmp_path / "out", ConvertOptions(base_height=1290.0))
    assert report["crs"]["crs"] == "EPSG:4546" and report["crs"]["source"] == "file"
    expected = expected_ecef("EPSG:4546", np.array([[e, n, 1299.0], [e + 20, n + 15, 1290.0]]))
    assert nearest_distances(ecef_positions(tmp_path / "out"), expected).max() < 0.01
    del data["crs"]
    source.write_text(json.dumps(data))
    overridden = convert(source, tmp_path / "override", ConvertOptions(crs="EPSG:4546", base_height=1290.0))
    assert overridden["crs"]["source"] == "user"


def test_many_buildings_are_tiled_with_bounded_tiles(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    features = []
    for i in range(3000):
        x, y = 109.78 + rng.uniform(0, 0.03), 39.60 + rng.uniform(0, 0.02)
        w, d = rng.uniform(0.0001, 0.0003, 2)
        ring = [[x, y], [x + w, y], [x + w, y + d], [x, y + d], [x, y]]
        features.append(_feature([ring], id=i, height=float(rng.uniform(5, 90))))
    source = tmp_path / "many.geojson"
    source.write_text(json.dumps(_collection(features)))
    from converters.footprints import writer

    original = writer.MAX_TILE_TRIANGLES, writer.PARENT_TRIANGLES
    writer.MAX_TILE_TRIANGLES, writer.PARENT_TRIANGLES = 6000, 1500
    try:
        report = convert(source, tmp_path / "out", ConvertOptions())
    finally:
        writer.MAX_TILE_TRIANGLES, writer.PARENT_TRIANGLES = original
    assert report["counts"]["buildings"] == 3000 and report["counts"]["tiles"] > 4
    assert report["counts"]["max_buildings_per_tile"] <= 6000 // 12
    assert _features_in_tiles(tmp_path / "out") == 3000
    tileset = assert_output_valid(tmp_path / "out")
    assert tileset["root"]["geometricError"] > 0 and tileset["root"]["children"]


def test_cityjson_lod2_semantic_surfaces(tmp_path: Path) -> None:
    report = convert(CITYJSON, tmp_path, ConvertOptions())
    assert report["format"] == "CityJSON 2.0"
    city = json.loads(CITYJSON.read_text())
    assert report["counts"]["buildings"] == len(city["CityObjects"])
    assert report["counts"]["features"] == 3 * len(city["CityObjects"])  # ground, walls, roof
    tileset = assert_output_valid(tmp_path)
    assert tileset["root"]["refine"] == "ADD"
    gltf, _ = read_glb(next(iter_contents(tmp_path))[0].read_bytes())
    schema = gltf["extensions"]["EXT_structural_metadata"]["schema"]["classes"]["building"]["properties"]
    assert {"cityobject_id", "semantic_surface", "lod", "height_m"} <= set(schema)
    assert {m["name"] for m in gltf["materials"]} >= {"RoofSurface", "WallSurface", "GroundSurface"}


def test_cityjson_without_reference_system_needs_crs(tmp_path: Path) -> None:
    city = json.loads(CITYJSON.read_text())
    del city["metadata"]["referenceSystem"]
    source = tmp_path / "nocrs.city.json"
    source.write_text(json.dumps(city))
    with pytest.raises(ConversionError, match="referenceSystem"):
        convert(source, tmp_path / "out", ConvertOptions())
    report = convert(source, tmp_path / "out", ConvertOptions(crs="EPSG:4546"))
    assert report["counts"]["buildings"] == len(city["CityObjects"])


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    source = tmp_path / "broken.geojson"
    source.write_text('{"type": "FeatureCollection", "features": [')
    with pytest.raises(ConversionError, match="not valid JSON"):
        convert(source, tmp_path / "out", ConvertOptions())


def test_gpkg_geometry_blobs_with_envelopes_and_empty_flag() -> None:
    import struct

    from converters.footprints.sources import _gpkg_geometry

    polygon = Polygon([(0, 0), (4, 0), (4, 3), (0, 3)])
    wkb = shapely.to_wkb(polygon)
    plain = b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", 4546) + wkb
    with_xyz_envelope = b"GP" + bytes([0, 0b00000101]) + struct.pack("<i", 4546) + struct.pack("<6d", *range(6)) + wkb
    empty = b"GP" + bytes([0, 0b00010001]) + struct.pack("<i", 4546)
    assert _gpkg_geometry(plain).equals(polygon)
    assert _gpkg_geometry(with_xyz_envelope).equals(polygon)
    assert _gpkg_geometry(empty) is None
    with pytest.raises(ValueError, match="GeoPackage"):
        _gpkg_geometry(b"XX" + wkb)

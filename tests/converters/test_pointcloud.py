"""Point-cloud converter: corpus files, georeferencing to 1 cm (metres and feet), CRS records, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import laspy
import numpy as np
import pytest

from converters.api import convert
from converters.errors import ConversionCancelled, ConversionError, GeoreferencingError
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
from tiles.glb import read_accessor, read_glb

pytestmark = pytest.mark.skipif(not SURVEY.is_dir(), reason="shared survey corpus not mounted")

GEOREFERENCED = ["autzen_trim.laz", "hexbin-crop.las", "lidR_Topography.laz"]


def _first_points(path: Path, n: int = 5) -> np.ndarray:
    las = laspy.read(path)
    index = np.linspace(0, len(las.points) - 1, n).astype(int)
    return np.column_stack([np.asarray(las.x)[index], np.asarray(las.y)[index], np.asarray(las.z)[index]])


@pytest.mark.parametrize("name", GEOREFERENCED)
def test_corpus_file_converts_to_valid_tiles(name: str, tmp_path: Path) -> None:
    report = convert(SURVEY / name, tmp_path, ConvertOptions())
    header_count = laspy.open(SURVEY / name).header.point_count
    assert report["counts"]["points_written"] == header_count
    assert report["crs"]["crs"]
    assert report["footprint_wgs84"]["type"] in ("Polygon", "MultiPolygon")
    assert json.loads((tmp_path / "report.json").read_text())["counts"]["points_written"] == header_count
    tileset = assert_output_valid(tmp_path)
    assert tileset["asset"]["version"] == "1.1"
    assert tileset["root"]["refine"] == "ADD"


def test_lion_copc_without_crs_is_refused_then_converts_with_local(tmp_path: Path) -> None:
    lion = SURVEY / "lion_takanawa.copc.laz"
    with pytest.raises(GeoreferencingError, match=r"no coordinate reference system.*--local"):
        convert(lion, tmp_path / "refused", ConvertOptions())
    report = convert(lion, tmp_path / "local", ConvertOptions(local=True))
    assert report["counts"]["points_written"] == 341989
    assert report["source"]["copc"] is True
    assert report["source"]["attributes"]["extra_dimensions_not_carried"] == ["OriginId"]
    assert report["georeferencing"]["mode"] == "local"
    assert report["octree"]["colour_bits"] == 16
    assert_output_valid(tmp_path / "local")


def test_colours_normalised_and_attributes_as_metadata(tmp_path: Path) -> None:
    convert(SURVEY / "lion_takanawa.copc.laz", tmp_path, ConvertOptions(local=True))
    path, _ = next(iter_contents(tmp_path))
    gltf, binary = read_glb(path.read_bytes())
    primitive = gltf["meshes"][0]["primitives"][0]
    assert primitive["mode"] == 0
    color = gltf["accessors"][primitive["attributes"]["COLOR_0"]]
    assert color["normalized"] is True and color["componentType"] == 5121
    rgb = read_accessor(gltf, binary, primitive["attributes"]["COLOR_0"])
    assert rgb.max() > 150  # 16-bit colours scaled down, not clipped to 255 or truncated to 0
    assert len(np.unique(rgb)) > 50
    metadata = gltf["extensions"]["EXT_structural_metadata"]
    names = set(metadata["schema"]["classes"]["point"]["properties"])
    assert {"intensity", "classification"} <= names
    assert primitive["extensions"]["EXT_structural_metadata"]["propertyAttributes"] == [0]


@pytest.mark.parametrize(("name", "z_unit"), [("hexbin-crop.las", 1.0), ("autzen_trim.laz", 0.3048)])
def test_points_land_where_pyproj_says(name: str, z_unit: float, tmp_path: Path) -> None:
    report = convert(SURVEY / name, tmp_path, ConvertOptions())
    las_crs = laspy.open(SURVEY / name).header.parse_crs()
    assert report["georeferencing"]["crs"]["z_unit_to_metre"] == pytest.approx(z_unit)
    source = _first_points(SURVEY / name)
    expected = expected_ecef(las_crs, source, z_unit)
    distances = nearest_distances(ecef_positions(tmp_path), expected)
    assert distances.max() < 0.01, distances


def test_compound_crs_sample_lands_where_pyproj_says(tmp_path: Path) -> None:
    path = SAMPLES / "kangbashi_scan.laz"
    report = convert(path, tmp_path, ConvertOptions())
    assert report["crs"]["crs"] == "EPSG:4546+5737"
    assert report["georeferencing"]["crs"]["heights"] == "orthometric"
    expected = expected_ecef("EPSG:4546+5737", _first_points(path))
    assert nearest_distances(ecef_positions(tmp_path), expected).max() < 0.01
    assert_output_valid(tmp_path)


def test_user_crs_overrides_and_conflicting_records_are_reported(tmp_path: Path) -> None:
    las = laspy.read(SURVEY / "hexbin-crop.las")
    for vlr in las.header.vlrs:
        if type(vlr).__name__ == "GeoKeyDirectoryVlr":
            for key in vlr.geo_keys:
                if key.id == 3072:
                    key.value_offset = 32643  # the WKT record still says UTM 42N
    conflicting = tmp_path / "conflict.las"
    las.write(conflicting)
    report = convert(conflicting, tmp_path / "out", ConvertOptions())
    conflict = report["crs"]["conflict"]
    assert "EPSG:32642" in conflict and "EPSG:32643" in conflict and "used the geotiff record" in conflict
    assert report["crs"]["crs"] == "EPSG:32643"
    overridden = convert(conflicting, tmp_path / "override", ConvertOptions(crs="EPSG:32642"))
    assert overridden["crs"]["source"] == "user"
    assert any("overrides" in note for note in overridden["crs"]["notes"])


@pytest.mark.parametrize("memory_mb", [1024, 16])  # in memory, and bucketed by parallel workers
@pytest.mark.parametrize("name", ["autzen_trim.laz", "hexbin-crop.las"])
def test_truncated_file_is_a_clear_error(name: str, memory_mb: int, tmp_path: Path) -> None:
    data = (SURVEY / name).read_bytes()
    broken = tmp_path / name
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConversionError, match=r"truncated|damaged"):
        convert(broken, tmp_path / "out", ConvertOptions(memory_mb=memory_mb))
    assert not (tmp_path / "out" / ".spill").exists()


def test_not_a_las_file_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.laz"
    bogus.write_bytes(b"this is not a point cloud" * 10)
    with pytest.raises(ConversionError, match="not a readable LAS/LAZ"):
        convert(bogus, tmp_path / "out", ConvertOptions())


def _cloud(path: Path, count: int) -> None:
    rng = np.random.default_rng(1)
    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales = [0.001, 0.001, 0.001]
    header.offsets = [400000.0, 4390000.0, 1000.0]
    header.add_crs(__import__("pyproj").CRS("EPSG:4546"))
    las = laspy.LasData(header)
    las.x = 400000 + rng.uniform(0, 800, count)
    las.y = 4390000 + rng.uniform(0, 600, count)
    las.z = 1290 + rng.uniform(0, 30, count)
    las.red = rng.integers(0, 255, count)
    las.intensity = rng.integers(0, 1000, count)
    las.classification = rng.integers(1, 7, count)
    las.write(path)


def test_out_of_core_matches_in_memory(tmp_path: Path) -> None:
    source = tmp_path / "cloud.las"
    _cloud(source, 400_000)
    fractions: list[float] = []
    chunked = convert(source, tmp_path / "chunked",
                      ConvertOptions(memory_mb=16, jobs=2, progress=lambda f, _m: fractions.append(f)))
    whole = convert(source, tmp_path / "whole", ConvertOptions(memory_mb=2048))
    assert chunked["octree"]["out_of_core"] is True and chunked["octree"]["bucket_depth"] >= 1
    assert whole["octree"]["out_of_core"] is False
    assert chunked["counts"]["points_written"] == whole["counts"]["points_written"] == 400_000
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert not (tmp_path / "chunked" / ".spill").exists()
    a = ecef_positions(tmp_path / "chunked")
    b = ecef_positions(tmp_path / "whole")
    assert len(a) == len(b) == 400_000
    assert np.allclose(np.sort(a[:, 0]), np.sort(b[:, 0]), atol=0.005)
    assert_output_valid(tmp_path / "chunked")


def test_cancel_from_progress_callback_stops_and_cleans_up(tmp_path: Path) -> None:
    source = tmp_path / "cloud.las"
    _cloud(source, 200_000)

    def cancel(fraction: float, _message: str) -> None:
        if fraction > 0.0:
            raise ConversionCancelled()

    with pytest.raises(ConversionCancelled):
        convert(source, tmp_path / "out", ConvertOptions(memory_mb=16, progress=cancel))
    assert not (tmp_path / "out" / ".spill").exists()


def test_geometric_error_follows_point_spacing(tmp_path: Path) -> None:
    source = tmp_path / "cloud.las"
    _cloud(source, 300_000)
    report = convert(source, tmp_path / "out", ConvertOptions())
    tileset = json.loads((tmp_path / "out" / "tileset.json").read_text())
    root = tileset["root"]
    assert root["geometricError"] == pytest.approx(report["octree"]["root_spacing_m"] * np.sqrt(3))
    child = root["children"][0]
    assert child["geometricError"] in (0.0, pytest.approx(root["geometricError"] / 2))
    shutil.rmtree(tmp_path / "out")


def test_us_survey_feet_crs_lands_where_pyproj_says(tmp_path: Path) -> None:
    """EPSG:2227 (NAD83 / California zone 3, US survey feet): horizontal and vertical units in ftUS."""
    import pyproj

    rng = np.random.default_rng(5)
    header = laspy.LasHeader(point_format=1, version="1.2")
    header.scales = [0.01, 0.01, 0.01]
    header.offsets = [6_000_000.0, 2_100_000.0, 0.0]
    header.add_crs(pyproj.CRS("EPSG:2227"))
    las = laspy.LasData(header)
    las.x = 6_010_000 + rng.uniform(0, 2000, 20_000)
    las.y = 2_110_000 + rng.uniform(0, 2000, 20_000)
    las.z = 150 + rng.uniform(0, 60, 20_000)
    source = tmp_path / "ftus.las"
    las.write(source)
    report = convert(source, tmp_path / "out", ConvertOptions())
    assert report["crs"]["crs"] == "EPSG:2227"
    us_foot = 1200 / 3937
    assert report["georeferencing"]["crs"]["z_unit_to_metre"] == pytest.approx(us_foot)
    expected = expected_ecef("EPSG:2227", _first_points(source), us_foot)
    assert nearest_distances(ecef_positions(tmp_path / "out"), expected).max() < 0.01


def test_cloud_without_crs_placed_by_origin(tmp_path: Path) -> None:
    """--origin (WGS84 lon, lat, h without --crs) places local coordinates, rotated by --rotation."""
    from converters.georef import LocalFrame

    lion = SURVEY / "lion_takanawa.copc.laz"
    options = ConvertOptions(origin=(109.79, 39.608, 1300.0), rotation_deg=90.0)
    report = convert(lion, tmp_path, options)
    assert report["georeferencing"]["mode"] == "origin"
    local = _first_points(lion, 3)
    rotated = np.column_stack([-local[:, 1], local[:, 0], local[:, 2]])
    expected = LocalFrame(109.79, 39.608, 1300.0).enu_to_ecef(rotated)
    assert nearest_distances(ecef_positions(tmp_path), expected).max() < 0.01

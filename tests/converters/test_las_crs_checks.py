"""LAS headers whose CRS contradicts the coordinates are refused with one line naming the override
(issue 13, item 3): in the library, in the CLI (exit code 2) and in the worker's child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import laspy
import numpy as np
import pyproj
import pytest

from converters.api import convert
from converters.errors import ConversionError, GeoreferencingError
from converters.options import ConvertOptions
from converters.pointcloud.crs_bounds import check_bounds
from tests.support.validators import assert_output_valid

ROOT = Path(__file__).resolve().parents[2]


def _las(path: Path, crs: str, x0: float, y0: float, extent: float = 50.0) -> Path:
    rng = np.random.default_rng(7)
    header = laspy.LasHeader(point_format=1, version="1.2")
    header.scales = [0.001, 0.001, 0.001]
    header.offsets = [x0, y0, 0.0]
    header.add_crs(pyproj.CRS(crs))
    las = laspy.LasData(header)
    las.x = x0 + rng.uniform(0, extent, 2000)
    las.y = y0 + rng.uniform(0, extent, 2000)
    las.z = 100 + rng.uniform(0, 10, 2000)
    las.write(path)
    return path


@pytest.fixture
def utm_as_wgs84(tmp_path: Path) -> Path:
    """A terrestrial scan's header: EPSG:4326 declared, UTM-like metres stored."""
    return _las(tmp_path / "scan.las", "EPSG:4326", 515_368.0, 4_918_340.0)


def test_geographic_crs_with_metre_coordinates_is_a_data_error(utm_as_wgs84: Path, tmp_path: Path) -> None:
    with pytest.raises(GeoreferencingError) as caught:
        convert(utm_as_wgs84, tmp_path / "out", ConvertOptions(jobs=1))
    message = str(caught.value)
    assert isinstance(caught.value, ConversionError)
    assert "\n" not in message
    for fragment in ("scan.las", "EPSG:4326", "geographic", "515368", "4918340", "--crs"):
        assert fragment in message, message
    assert "geoid" not in message
    assert not (tmp_path / "out" / "tileset.json").exists()


def test_override_with_the_right_crs_converts(utm_as_wgs84: Path, tmp_path: Path) -> None:
    report = convert(utm_as_wgs84, tmp_path / "out", ConvertOptions(crs="EPSG:32632", jobs=1))
    assert report["crs"]["source"] == "user"
    lon = report["georeferencing"]["frame"]["wgs84"]["lon"]
    assert 9.0 < lon < 9.5  # UTM 32N, about 200 m east of the central meridian 9°E
    assert_output_valid(tmp_path / "out")


def test_projected_crs_outside_its_area_of_use_is_refused(tmp_path: Path) -> None:
    """UTM 42N coordinates (Afghanistan) under MTM zone 7 (Quebec) land near 33°N, far south of Quebec."""
    source = _las(tmp_path / "mtm.las", "EPSG:2949", 393_775.0, 3_689_071.0)
    with pytest.raises(GeoreferencingError, match=r"outside its area of use .*--crs"):
        convert(source, tmp_path / "out", ConvertOptions(jobs=1))


def test_wrong_user_crs_is_named_as_such(utm_as_wgs84: Path, tmp_path: Path) -> None:
    with pytest.raises(GeoreferencingError, match=r"--crs gives EPSG:4490 .*give the CRS the coordinates are in"):
        convert(utm_as_wgs84, tmp_path / "out", ConvertOptions(crs="EPSG:4490", jobs=1))


@pytest.mark.parametrize(
    ("crs", "lo", "hi"),
    [
        ("EPSG:4326", (-180.0, -90.0), (180.0, 90.0)),
        ("EPSG:4546", (400_000.0, 4_300_000.0), (420_000.0, 4_400_000.0)),  # Ordos, CGCS2000 GK CM 111°E
        ("EPSG:32642", (393_775.8, 3_689_071.9), (394_069.2, 3_689_273.1)),  # the hexbin sample
        ("EPSG:32660", (800_000.0, 5_000_000.0), (900_000.0, 5_100_000.0)),  # east of the zone, by the margin
    ],
)
def test_coordinates_that_fit_pass(crs: str, lo: tuple[float, float], hi: tuple[float, float]) -> None:
    check_bounds(pyproj.CRS(crs), np.array([*lo, 0.0]), np.array([*hi, 0.0]), "wkt", "x.las")


@pytest.mark.parametrize(
    ("crs", "lo", "hi"),
    [
        ("EPSG:4326", (100.0, 95.0), (101.0, 96.0)),  # latitude above 90
        ("EPSG:4326", (-181.0, 10.0), (-179.0, 11.0)),  # longitude below -180
        ("EPSG:4546", (400_000.0, -4_400_000.0), (420_000.0, -4_300_000.0)),  # southern hemisphere
        ("EPSG:4546+5737", (400_000.0, 9_300_000.0), (420_000.0, 9_400_000.0)),  # beyond 84°N
    ],
)
def test_coordinates_that_contradict_fail(crs: str, lo: tuple[float, float], hi: tuple[float, float]) -> None:
    with pytest.raises(GeoreferencingError, match="--crs"):
        check_bounds(pyproj.CRS(crs), np.array([*lo, 0.0]), np.array([*hi, 0.0]), "geotiff", "x.las")


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CIM_")}


def test_cli_exits_2_with_one_line(utm_as_wgs84: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "convert", str(utm_as_wgs84), "-o", str(tmp_path / "out"), "-q"],
        cwd=ROOT, env=_clean_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "EPSG:4326" in lines[0] and "--crs" in lines[0]


def test_worker_child_process_reports_a_data_error(utm_as_wgs84: Path, tmp_path: Path) -> None:
    """The platform's jobs run ``python -m converters``: a data error is its last JSON line, exit code 2."""
    result = subprocess.run(
        [sys.executable, "-m", "converters", str(utm_as_wgs84), str(tmp_path / "out"), "--options", '{"jobs": 1}'],
        cwd=ROOT, env=_clean_env(), capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2, result.stderr
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["kind"] == "data"
    assert "EPSG:4326" in last["error"] and "--crs" in last["error"]

"""A city-supplied geoid grid for Yellow Sea 1985 heights (issue 13, item 4): heights shift by exactly
the grid's difference to EGM96, the report names the grid, bad grid files are one-line data errors."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import laspy
import numpy as np
import pytest

from converters.api import convert
from converters.errors import GeoreferencingError
from converters.georef import (
    EGM96,
    GEOID_NOTE,
    LocalFrame,
    MapToLocal,
    geoid_undulation,
    load_geoid_grid,
    use_geoid_grid,
)
from converters.options import ConvertOptions

ROOT = Path(__file__).resolve().parents[2]
ORIGIN_4546 = (389_500.0, 4_385_200.0, 1_300.0)  # Kangbashi, CGCS2000 GK CM 111E, Yellow Sea 1985 height
# a grid over Ordos on EGM96's own 15' nodes (egm96_15.gtx starts at -90°, -180°)
LAT0, LON0, STEP, ROWS, COLS = 37.0, 106.0, 0.25, 21, 25


def write_gtx(path: Path, values: np.ndarray, lat0: float = LAT0, lon0: float = LON0, step: float = STEP) -> Path:
    """NOAA GTX: big-endian header (lat/lon of the south-west node, steps, rows, columns), then rows of
    float32 from south to north."""
    rows, cols = values.shape
    path.write_bytes(struct.pack(">ddddii", lat0, lon0, step, step, rows, cols) + values.astype(">f4").tobytes())
    return path


def _nodes() -> tuple[np.ndarray, np.ndarray]:
    lat, lon = np.meshgrid(LAT0 + STEP * np.arange(ROWS), LON0 + STEP * np.arange(COLS), indexing="ij")
    return lon, lat


@pytest.fixture
def constant_grid(tmp_path: Path) -> Path:
    return write_gtx(tmp_path / "constant.gtx", np.full((ROWS, COLS), -28.25))


@pytest.fixture
def shifted_grid(tmp_path: Path) -> Path:
    """EGM96 sampled at its own nodes plus 0.5 m: bilinear interpolation gives EGM96 + 0.5 everywhere."""
    lon, lat = _nodes()
    egm96 = geoid_undulation(lon.ravel(), lat.ravel()).reshape(lon.shape)
    return write_gtx(tmp_path / "ordos_1985.gtx", egm96 + 0.5)


def _points(n: int = 200) -> np.ndarray:
    rng = np.random.default_rng(11)
    return np.array(ORIGIN_4546) + rng.uniform(-20_000, 20_000, (n, 3)) * np.array([1, 1, 0.01])


def _heights(crs: str) -> np.ndarray:
    return MapToLocal(crs, LocalFrame(109.79, 39.6, 1200.0)).to_geodetic(_points())[:, 2]


def test_constant_grid_adds_its_constant(constant_grid: Path) -> None:
    with use_geoid_grid(constant_grid) as used:
        heights = _heights("EPSG:4546+5737")
    assert np.abs(heights - (_points()[:, 2] - 28.25)).max() < 1e-6
    assert list(used) == ["constant.gtx"]


def test_heights_shift_by_exactly_the_offset_to_egm96(shifted_grid: Path) -> None:
    egm96 = _heights("EPSG:4546+5737")
    with use_geoid_grid(shifted_grid):
        city = _heights("EPSG:4546+5737")
    assert np.abs(city - egm96 - 0.5).max() < 1e-5
    assert np.abs(_heights("EPSG:4546+5737") - egm96).max() == 0.0  # back to EGM96 after the conversion


def test_report_names_the_grid_and_keeps_the_egm96_caveat_for_the_default(shifted_grid: Path) -> None:
    frame = LocalFrame(109.79, 39.6, 1200.0)
    default = MapToLocal("EPSG:4546+5737", frame).report()
    assert default["geoid"] == "EGM96" and default["caveat"] == GEOID_NOTE
    with use_geoid_grid(shifted_grid):
        city = MapToLocal("EPSG:4546+5737", frame).report()
        other = MapToLocal("EPSG:4546", frame).report()  # no 1985 vertical datum declared: EGM96
    assert city["geoid"] == "ordos_1985.gtx" and city["grid"] == str(shifted_grid.resolve())
    assert "caveat" not in city
    assert other["geoid"] == "EGM96" and str(shifted_grid.resolve()) in other["note"]


def test_grid_not_covering_the_data_is_refused(tmp_path: Path) -> None:
    elsewhere = write_gtx(tmp_path / "elsewhere.gtx", np.zeros((5, 5)), lat0=10.0, lon0=10.0)
    with use_geoid_grid(elsewhere), pytest.raises(GeoreferencingError, match="does not cover"):
        _heights("EPSG:4546+5737")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.gtx", None, "no such file"),
        ("short.gtx", b"\x00" * 12, "too short"),
        ("truncated.gtx", struct.pack(">ddddii", 37.0, 106.0, 0.25, 0.25, 21, 25) + b"\x00" * 40, "21 × 25"),
        ("broken.tif", b"II*\x00" + b"\x00" * 60, "PROJ cannot read it"),
        ("text.tif", b"not a tiff at all", "not a TIFF"),
        ("grid.csv", b"lon,lat,n\n", "expected a GTX"),
    ],
)
def test_bad_grid_files_are_one_line_errors(tmp_path: Path, name: str, content: bytes | None, expected: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(GeoreferencingError, match=expected) as caught:
        load_geoid_grid(path)
    assert "\n" not in str(caught.value)


def _las(path: Path, n: int = 3000) -> Path:
    """A small survey in Kangbashi without CRS records (the CRS is given with --crs)."""
    rng = np.random.default_rng(3)
    header = laspy.LasHeader(point_format=1, version="1.2")
    header.scales = [0.001, 0.001, 0.001]
    header.offsets = [ORIGIN_4546[0], ORIGIN_4546[1], 0.0]
    las = laspy.LasData(header)
    las.x = ORIGIN_4546[0] + rng.uniform(0, 300, n)
    las.y = ORIGIN_4546[1] + rng.uniform(0, 300, n)
    las.z = ORIGIN_4546[2] + rng.uniform(0, 20, n)
    las.write(path)
    return path


def _frame_height(report: dict) -> float:
    return float(report["georeferencing"]["frame"]["wgs84"]["height_ellipsoidal_m"])


def test_conversion_uses_the_grid_and_reports_it(shifted_grid: Path, tmp_path: Path) -> None:
    source = _las(tmp_path / "survey.las")
    default = convert(source, tmp_path / "egm96", ConvertOptions(crs="EPSG:4546+5737", jobs=1))
    city = convert(source, tmp_path / "city",
                   ConvertOptions(crs="EPSG:4546+5737", jobs=1, geoid_grid=str(shifted_grid)))
    assert _frame_height(city) - _frame_height(default) == pytest.approx(0.5, abs=1e-4)
    assert default["geoid"] == [{"geoid": "EGM96", "grid": EGM96.grid, "caveat": GEOID_NOTE}]
    assert city["geoid"][0]["grid"] == str(shifted_grid.resolve())
    written = json.loads((tmp_path / "city" / "report.json").read_text())
    assert written["geoid"] == city["geoid"]
    assert written["georeferencing"]["crs"]["geoid"] == "ordos_1985.gtx"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIM_")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_cli_geoid_option(shifted_grid: Path, tmp_path: Path) -> None:
    source = _las(tmp_path / "survey.las", 500)
    done = _run("-m", "api.cli", "convert", str(source), "-o", str(tmp_path / "out"), "-q",
                "--crs", "EPSG:4546+5737", "--geoid", str(shifted_grid))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["geoid"][0]["geoid"] == "ordos_1985.gtx"
    missing = _run("-m", "api.cli", "convert", str(source), "-o", str(tmp_path / "out2"), "-q",
                   "--crs", "EPSG:4546+5737", "--geoid", str(tmp_path / "nope.gtx"))
    assert missing.returncode == 2
    lines = missing.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope.gtx: no such file" in lines[0], missing.stderr
    assert not (tmp_path / "out2").exists()
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00" + b"garbage" * 8)  # TIFF magic, no directory: libtiff complains on stderr
    unreadable = _run("-m", "api.cli", "convert", str(source), "-o", str(tmp_path / "out3"), "-q",
                      "--crs", "EPSG:4546+5737", "--geoid", str(broken))
    assert unreadable.returncode == 2
    lines = unreadable.stderr.strip().splitlines()
    assert len(lines) == 1 and "PROJ cannot read it" in lines[0], unreadable.stderr


def test_worker_options_key_geoid_grid(shifted_grid: Path, tmp_path: Path) -> None:
    """The server passes ``geoid_grid`` in the options JSON of ``python -m converters``."""
    source = _las(tmp_path / "survey.las", 500)
    options = json.dumps({"crs": "EPSG:4546+5737", "jobs": 1, "geoid_grid": str(shifted_grid)})
    done = _run("-m", "converters", str(source), str(tmp_path / "out"), "--options", options)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])["report"]
    assert report["geoid"][0]["grid"] == str(shifted_grid.resolve())
    bad = json.dumps({"crs": "EPSG:4546+5737", "geoid_grid": str(tmp_path / "nope.gtx")})
    refused = _run("-m", "converters", str(source), str(tmp_path / "out2"), "--options", bad)
    assert refused.returncode == 2
    assert json.loads(refused.stdout.strip().splitlines()[-1])["kind"] == "data"

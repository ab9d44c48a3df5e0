"""IFC models whose placements hold raw national-grid coordinates and whose only georeferencing is
IfcSite RefLatitude/RefLongitude: the converter finds the projected CRS that puts the coordinates at
the site (checked numerically against pyproj), or refuses in one line; never a tileset kilometres off.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer

from converters.api import convert
from converters.errors import GeoreferencingError
from converters.options import DEFAULT_LOCATION, ConvertOptions
from tests.support.glb_reading import ecef_positions, expected_ecef, nearest_distances
from tests.support.validators import assert_output_valid

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_ifc_samples", REPO / "sample_models" / "make_ifc_samples.py")
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)  # type: ignore[union-attr]

KANGBASHI = (109.7812, 39.6094)  # lon, lat
PRAGUE = (14.4213, 50.0875)


def _columns(crs: str, lonlat: tuple[float, float], height: float, spread: float) -> list[tuple[float, float, float]]:
    e, n = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*lonlat)
    return [(round(e + dx, 3), round(n + dy, 3), height) for dx in (-spread, spread) for dy in (-spread, spread)]


def _corners(columns: list[tuple[float, float, float]], size: float = 0.4, height: float = 3.0) -> np.ndarray:
    return np.array(
        [(e + dx, n + dy, h + dz) for e, n, h in columns for dx in (0, size) for dy in (0, size) for dz in (0, height)]
    )


def _single_line(error: pytest.ExceptionInfo[GeoreferencingError]) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_raw_cgcs2000_coordinates_land_where_epsg4546_says(tmp_path: Path) -> None:
    columns = _columns("EPSG:4546", KANGBASHI, 1290.0, 8.0)
    ifc = samples.make_raw_grid_model(tmp_path / "raw4546.ifc", columns, KANGBASHI, ref_elevation=1290.0)
    report = convert(ifc, tmp_path / "out", ConvertOptions(jobs=1))
    assert_output_valid(tmp_path / "out")
    placed = ecef_positions(tmp_path / "out")
    distances = nearest_distances(placed, expected_ecef("EPSG:4546", _corners(columns)))
    assert distances.max() < 0.02, distances.max()  # centimetres
    geo = report["georeferencing"]
    assert geo["source"] == "IfcSite+detected-CRS" and geo["crs"] == "EPSG:4546"
    detection = geo["crs_detection"]
    assert detection["chosen"]["crs"] == "EPSG:4546" and detection["chosen"]["site_distance_m"] < 1.0
    assert "4,40" in detection["reason"]  # the raw numbers are ~4 400 km from the site's origin
    # the Xian 1980 zone cannot be told apart by a site point: reported with its offset
    xian = {e["crs"]: e["offset_from_chosen_m"] for e in detection["equivalent"]}
    assert 1.0 < xian["EPSG:2382"] < 3.0
    # recentred for float precision: the frame sits at the geometry, contents hold small numbers
    origin = geo["origin"]["wgs84"]
    frame = Transformer.from_crs("EPSG:4326", "EPSG:4546", always_xy=True).transform(origin["lon"], origin["lat"])
    assert np.hypot(frame[0] - columns[0][0] - 8.0, frame[1] - columns[0][1] - 8.0) < 1.0
    tileset = json.loads((tmp_path / "out" / "tileset.json").read_text())
    assert max(abs(v) for v in tileset["root"]["boundingVolume"]["box"][:3]) < 20.0
    assert tileset["metadata"]["properties"]["crs"] == "EPSG:4546"


def test_raw_krovak_coordinates_with_a_prague_site_are_found(tmp_path: Path) -> None:
    """The issue's case: S-JTSK / Krovak East North values (≈ −743 000, −1 043 800) placed by a site in Prague."""
    columns = _columns("EPSG:5514", PRAGUE, 250.0, 6.0)
    assert -750_000 < columns[0][0] < -730_000 and -1_050_000 < columns[0][1] < -1_040_000
    ifc = samples.make_raw_grid_model(tmp_path / "krovak.ifc", columns, PRAGUE, ref_elevation=250.0)
    report = convert(ifc, tmp_path / "out", ConvertOptions(jobs=1))
    assert_output_valid(tmp_path / "out")
    distances = nearest_distances(ecef_positions(tmp_path / "out"), expected_ecef("EPSG:5514", _corners(columns)))
    assert distances.max() < 0.02, distances.max()
    detection = report["georeferencing"]["crs_detection"]
    assert detection["chosen"]["crs"] == "EPSG:5514"
    assert "1,28" in detection["reason"]  # ≈ 1 280 km: where the raw numbers used to put the model


def test_relative_heights_are_taken_from_ref_elevation(tmp_path: Path) -> None:
    columns = _columns("EPSG:4546", KANGBASHI, 0.0, 8.0)  # z from 0, the site says 1 290 m
    ifc = samples.make_raw_grid_model(tmp_path / "relative.ifc", columns, KANGBASHI, ref_elevation=1290.0)
    report = convert(ifc, tmp_path / "out", ConvertOptions(jobs=1))
    absolute = [(e, n, 1290.0) for e, n, _ in columns]
    distances = nearest_distances(ecef_positions(tmp_path / "out"), expected_ecef("EPSG:4546", _corners(absolute)))
    assert distances.max() < 0.02, distances.max()
    assert "RefElevation" in report["georeferencing"]["crs_detection"]["heights"]


def test_coordinates_fitting_two_grids_are_refused_in_one_line(tmp_path: Path) -> None:
    """A 300 m site: CGCS2000 and (New) Beijing 1954 zones, 77 m apart, both put it at the site point."""
    columns = _columns("EPSG:4546", KANGBASHI, 1290.0, 150.0)
    ifc = samples.make_raw_grid_model(tmp_path / "wide.ifc", columns, KANGBASHI, ref_elevation=1290.0)
    with pytest.raises(GeoreferencingError) as error:
        convert(ifc, tmp_path / "out", ConvertOptions(jobs=1))
    message = _single_line(error)
    assert "km from the IfcSite origin" in message and "different projected CRSs" in message
    assert "EPSG:4546" in message and "--crs" in message
    assert not (tmp_path / "out" / "tileset.json").exists()
    # the advice works: --crs alone reads the coordinates as map coordinates of that CRS
    report = convert(ifc, tmp_path / "given", ConvertOptions(jobs=1, crs="EPSG:4546"))
    assert report["georeferencing"]["source"] == "explicit"
    distances = nearest_distances(ecef_positions(tmp_path / "given"), expected_ecef("EPSG:4546", _corners(columns)))
    assert distances.max() < 0.02, distances.max()


def test_coordinates_no_crs_puts_at_the_site_are_refused(tmp_path: Path) -> None:
    """Krovak numbers with a site in Kangbashi: nothing there explains them."""
    columns = _columns("EPSG:5514", PRAGUE, 250.0, 6.0)
    ifc = samples.make_raw_grid_model(tmp_path / "nowhere.ifc", columns, KANGBASHI, ref_elevation=1290.0)
    with pytest.raises(GeoreferencingError) as error:
        convert(ifc, tmp_path / "out", ConvertOptions(jobs=1))
    message = _single_line(error)
    assert "1,28" in message and "km" in message and "none of the" in message
    assert "pass --crs" in message
    assert not (tmp_path / "out" / "tileset.json").exists()


def test_crs_option_refuses_coordinates_outside_its_area(tmp_path: Path) -> None:
    columns = _columns("EPSG:5514", PRAGUE, 250.0, 6.0)
    ifc = samples.make_raw_grid_model(tmp_path / "wrong.ifc", columns, None)
    with pytest.raises(GeoreferencingError) as error:
        convert(ifc, tmp_path / "out", ConvertOptions(jobs=1, crs="EPSG:4546"))
    assert "outside that CRS's area of use" in _single_line(error)


def test_far_geometry_placed_at_the_default_location_is_recentred(tmp_path: Path) -> None:
    columns = _columns("EPSG:4546", KANGBASHI, 0.0, 8.0)
    ifc = samples.make_raw_grid_model(tmp_path / "ungeoreferenced.ifc", columns, None)
    report = convert(ifc, tmp_path / "out", ConvertOptions(jobs=1, allow_ungeoreferenced=True))
    assert report["georeferencing"]["source"] == "default-location"
    assert "recentred" in report["georeferencing"]
    lon, lat, h = DEFAULT_LOCATION
    expected = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True).transform(lon, lat, h)
    placed = ecef_positions(tmp_path / "out")
    assert np.linalg.norm(placed.mean(axis=0) - np.array(expected)) < 20.0  # not 4 400 km away, nor 1 500 km up

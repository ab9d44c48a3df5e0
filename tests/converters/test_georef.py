"""Local frame and map → local maths, checked numerically against direct pyproj transforms."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from converters.errors import GeoreferencingError
from converters.georef import (
    LocalFrame,
    MapToLocal,
    ecef_to_geodetic,
    enu_to_gltf,
    geodetic_to_ecef,
    geoid_undulation,
    gltf_to_enu,
)

ORIGIN_4546 = (389_500.0, 4_385_200.0, 1_300.0)  # Kangbashi, CGCS2000 GK CM 111E, Yellow Sea 1985 height


def _direct_ecef_4546_5737(points: np.ndarray) -> np.ndarray:
    """Reference: pyproj EPSG:4546 → lon/lat, EGM96 added to the 1985 heights, then → ECEF EPSG:4978."""
    to_geo = Transformer.from_crs("EPSG:4546", "EPSG:4979", always_xy=True)
    lon, lat = to_geo.transform(points[:, 0], points[:, 1], points[:, 2])[:2]
    h = points[:, 2] + geoid_undulation(lon, lat)
    to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    return np.stack(to_ecef.transform(lon, lat, h), axis=-1)


def _apply_column_major(transform: list[float], xyz: np.ndarray) -> np.ndarray:
    matrix = np.array(transform, dtype=np.float64).reshape(4, 4, order="F")
    homogeneous = np.c_[xyz, np.ones(len(xyz))]
    return (homogeneous @ matrix.T)[:, :3]


def test_vertices_within_2km_land_within_1cm_through_float32_gltf_and_root_transform() -> None:
    rng = np.random.default_rng(7)
    offsets = rng.uniform(-1400, 1400, size=(500, 3)) * np.array([1, 1, 0.1])
    points = np.array(ORIGIN_4546) + offsets
    frame = MapToLocal.frame_at("EPSG:4546+5737", ORIGIN_4546)
    to_local = MapToLocal("EPSG:4546+5737", frame)
    stored = enu_to_gltf(to_local.to_enu(points))  # what a glb holds: float32, y-up
    assert stored.dtype == np.float32
    runtime_enu = gltf_to_enu(stored.astype(np.float64))  # what the runtime does: y-up → z-up
    ecef = _apply_column_major(frame.tileset_transform(), runtime_enu)
    error = np.linalg.norm(ecef - _direct_ecef_4546_5737(points), axis=1)
    assert error.max() < 0.01, error.max()


def test_yellow_sea_heights_are_not_taken_as_ellipsoidal() -> None:
    frame = MapToLocal.frame_at("EPSG:4546+5737", ORIGIN_4546)
    undulation = frame.height - ORIGIN_4546[2]
    assert -35 < undulation < -25  # Ordos geoid undulation is about -30 m
    report = MapToLocal("EPSG:4546+5737", frame).report()
    assert report["crs"] == "EPSG:4546+5737"
    assert report["heights"] == "orthometric" and "EGM96" in report["caveat"]


def test_ellipsoidal_heights_pass_through() -> None:
    frame = LocalFrame(109.79, 39.608, 1290.0)
    to_local = MapToLocal("EPSG:4979", frame)
    assert np.allclose(to_local.to_enu(np.array([[109.79, 39.608, 1300.0]])), [[0, 0, 10]], atol=1e-6)


def test_feet_crs_converts_horizontal_and_vertical_units() -> None:
    # NAD83(HARN) / Oregon GIC Lambert (ft), the Autzen CRS: 1 ft east is 0.3048 m east.
    frame = MapToLocal.frame_at("EPSG:2994", (636_500.0, 849_200.0, 400.0))
    to_local = MapToLocal("EPSG:2994", frame)
    enu = to_local.to_enu(np.array([[636_500.0 + 1000, 849_200.0, 400.0 + 100]]))[0]
    assert abs(np.hypot(enu[0], enu[1]) - 304.8) < 0.5  # grid scale factor differs from 1 slightly
    assert abs(enu[2] - 30.48) < 0.05


def test_transform_is_column_major_with_translation_last() -> None:
    frame = LocalFrame(109.79, 39.608, 1290.0)
    transform = frame.tileset_transform()
    assert len(transform) == 16 and transform[3] == transform[7] == transform[11] == 0.0
    assert transform[15] == 1.0
    assert np.allclose(transform[12:15], frame.ecef_origin)
    assert np.linalg.norm(frame.ecef_origin) > 6.3e6


def test_round_trips() -> None:
    frame = LocalFrame(109.79, 39.608, 1290.0)
    enu = np.array([[10.0, -20.0, 5.0], [1500.0, 800.0, -30.0]])
    assert np.allclose(frame.ecef_to_enu(frame.enu_to_ecef(enu)), enu, atol=1e-8)
    geo = frame.enu_to_geodetic(enu)
    assert np.allclose(frame.geodetic_to_enu(geo[:, 0], geo[:, 1], geo[:, 2]), enu, atol=1e-5)
    assert np.allclose(gltf_to_enu(enu_to_gltf(enu)), enu, atol=1e-3)


def test_ecef_to_geodetic_agrees_with_proj_everywhere_including_the_poles() -> None:
    """The NumPy inverse (no pyproj import at start-up) gives PROJ's EPSG:4978 → EPSG:4979 numbers."""
    rng = np.random.default_rng(7)
    lon = rng.uniform(-180, 180, 50_000)
    lat = rng.uniform(-90, 90, 50_000)
    h = rng.uniform(-1_000, 20_000, 50_000)
    lat[:4] = [90.0, -90.0, 89.999999, 0.0]
    ecef = geodetic_to_ecef(lon, lat, h)
    ours = ecef_to_geodetic(ecef)
    proj = np.stack(
        Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True).transform(ecef[:, 0], ecef[:, 1], ecef[:, 2]),
        axis=-1,
    )
    dlon = np.abs(ours[:, 0] - proj[:, 0])
    assert np.minimum(dlon, 360 - dlon).max() < 1e-9
    assert np.abs(ours[:, 1] - proj[:, 1]).max() < 1e-9
    assert np.abs(ours[:, 2] - proj[:, 2]).max() < 1e-6
    assert np.abs(ours[:, 1:] - np.stack([lat, h], axis=-1)).max() < 1e-4  # and it inverts geodetic_to_ecef
    assert ecef_to_geodetic(ecef[0]).shape == (1, 3)


def test_a_conversion_without_a_crs_does_not_import_pyproj() -> None:
    """Start-up cost: frames, footprints and ENU maths are NumPy; pyproj is loaded when a CRS or a geoid
    grid is used (~0.1 s of a small file's conversion)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np; from converters.georef import LocalFrame; "
        "f = LocalFrame(109.79, 39.608, 1290.0); f.enu_to_geodetic(np.zeros((2, 3))); "
        "import converters.api, converters.ifc; print('pyproj' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_bad_inputs_raise_georeferencing_errors() -> None:
    with pytest.raises(GeoreferencingError):
        MapToLocal("EPSG:999999", LocalFrame(0, 0, 0))
    with pytest.raises(GeoreferencingError):
        LocalFrame(200.0, 0.0, 0.0)
    with pytest.raises(GeoreferencingError):
        MapToLocal("EPSG:5737", LocalFrame(0, 0, 0))


def test_y_up_matrix_maps_gltf_up_to_z() -> None:
    from tests.support.glb_reading import Y_UP_TO_Z_UP

    assert np.allclose(Y_UP_TO_Z_UP[:3, :3] @ [0.0, 1.0, 0.0], [0.0, 0.0, 1.0])
    assert np.allclose(Y_UP_TO_Z_UP[:3, :3] @ [0.0, 0.0, -1.0], [0.0, 1.0, 0.0])  # glTF -z is north

"""Terrain end to end over HTTP with a real worker: DEM GeoTIFF upload → quantized-mesh tiles in
PostGIS → streamed per dataset and combined for the city; tiles decoded with an independent reader
and compared with the DEM within each level's error; bad DEMs refused at upload with nothing stored."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from sqlalchemy import func, select

from cim_platform.core.db.engine import session_scope
from cim_platform.datasets.models import Dataset, DatasetRevision, TileContent
from converters.georef import geoid_undulation
from converters.terrain.tiling import TileKey
from tests.support.http_api import upload, wait_job
from tests.support.quantized_mesh import decode, heights_at

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "make_ground", REPO / "sample_models" / "ground" / "make_ground_samples.py"
)
assert _spec is not None and _spec.loader is not None
make_ground = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_ground)

QUANTIZED_MESH = "application/vnd.quantized-mesh"
CESIUM_ACCEPT = "application/vnd.quantized-mesh;extensions=octvertexnormals,application/octet-stream;q=0.9,*/*;q=0.01"


def _converted(client, headers, path: Path, **fields: str) -> dict:
    response = upload(client, headers, path, **fields)
    assert response.status_code == 202, response.text
    body = response.json()
    job = wait_job(client, headers, body["job"]["href"])
    assert job["state"] == "succeeded", job
    return body


def _dem_samples(path: Path, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random pixel centres of the DEM (away from its edges and nodata): lon, lat, ellipsoidal height."""
    with rasterio.open(path) as dem:
        heights, transform, nodata = dem.read(1), dem.transform, dem.nodata
    rows = rng.integers(3, heights.shape[0] - 3, count * 2)
    cols = rng.integers(3, heights.shape[1] - 3, count * 2)
    near_hole = np.zeros(len(rows), dtype=bool)
    for dr in (-2, 0, 2):
        for dc in (-2, 0, 2):
            near_hole |= heights[np.clip(rows + dr, 0, None), np.clip(cols + dc, 0, None)] == nodata
    rows, cols = rows[~near_hole][:count], cols[~near_hole][:count]
    east, north = transform.c + (cols + 0.5) * transform.a, transform.f + (rows + 0.5) * transform.e
    lon, lat = Transformer.from_crs("EPSG:4546", "EPSG:4326", always_xy=True).transform(east, north)
    return np.asarray(lon), np.asarray(lat), heights[rows, cols] + geoid_undulation(lon, lat)


def _compare(client, headers, url_of, dem: Path, level: int, error: float, slope_allowance: float) -> int:
    """Heights of the decoded tiles of ``level`` at DEM pixel centres, within ``error`` + an allowance
    for resampling the DEM onto the level's grid; the number of points compared."""
    lon, lat, expected = _dem_samples(dem, 150, np.random.default_rng(level))
    size = 180.0 / (1 << level)
    columns, rows = np.floor((lon + 180) / size).astype(int), np.floor((lat + 90) / size).astype(int)
    compared = 0
    for x, y in sorted(set(zip(columns.tolist(), rows.tolist(), strict=True))):
        response = client.get(url_of(level, x, y), headers={**headers, "Accept": CESIUM_ACCEPT})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == QUANTIZED_MESH
        mesh = decode(response.content)
        assert 1 in mesh.extensions  # oct-encoded vertex normals
        assert len(mesh.extensions[1]) == 2 * len(mesh.u)
        assert all(len(edge) for edge in mesh.edges.values())
        bounds = TileKey(level, x, y).bounds
        corners = mesh.positions(*bounds)[mesh.triangles]
        winding = (corners[:, 1, 0] - corners[:, 0, 0]) * (corners[:, 2, 1] - corners[:, 0, 1]) - (
            corners[:, 1, 1] - corners[:, 0, 1]
        ) * (corners[:, 2, 0] - corners[:, 0, 0])
        assert (winding > 0).all()  # counter-clockwise seen from above
        here = (columns == x) & (rows == y)
        got = heights_at(mesh, bounds, lon[here], lat[here])
        assert np.isfinite(got).all()
        worst = float(np.max(np.abs(got - expected[here])))
        assert worst <= error + slope_allowance, (level, x, y, worst, error)
        compared += int(here.sum())
    return compared


@pytest.fixture
def dems(tmp_path: Path) -> dict[str, Path]:
    return {
        "base": make_ground.write_dem(tmp_path / "base_dem.tif", size=160, resolution=30.0),
        "fine": make_ground.write_dem(tmp_path / "fine_dem.tif", size=200, resolution=5.0, hole=True),
        "no_crs": make_ground.write_dem(tmp_path / "no_crs_dem.tif", size=50, resolution=5.0, crs=None),
    }


def test_terrain_upload_stream_combine_and_refuse(client, cast, start_worker, settings, dems) -> None:
    start_worker()
    headers = cast.headers("surveyor")
    engine = client.app.state.engine

    # refused at upload, nothing stored: a DEM without CRS, a corrupt TIFF
    with session_scope(engine) as session:
        before = session.scalar(select(func.count()).select_from(Dataset))
    response = upload(client, headers, dems["no_crs"], name="no crs")
    assert response.status_code == 422 and "no coordinate reference system" in response.json()["detail"]
    corrupt = dems["no_crs"].with_name("corrupt_dem.tif")
    corrupt.write_bytes(dems["fine"].read_bytes()[:3000])
    response = upload(client, headers, corrupt, name="corrupt", kind="terrain")
    assert response.status_code == 422 and "cannot be read" in response.json()["detail"], response.text
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == before
    assert not list((settings.uploads_dir / "incoming").glob("*"))
    # the CRS given with the upload makes the same DEM acceptable
    given = _converted(client, headers, dems["no_crs"], name="CRS given", crs="EPSG:4546")
    assert given["dataset"]["kind"] == "terrain"

    base = _converted(client, headers, dems["base"], name="Base DEM", district="kangbashi", visibility="public")
    fine = _converted(client, headers, dems["fine"], name="Fine DEM", district="kangbashi", visibility="internal")
    assert base["dataset"]["kind"] == "terrain" and fine["dataset"]["kind"] == "terrain"
    fine_id = fine["dataset"]["id"]
    detail = client.get(f"/api/v1/datasets/{fine_id}", headers=headers).json()
    assert detail["footprint"]["type"] == "MultiPolygon"  # counted for coverage like any dataset
    report = client.get(f"/tiles/{fine_id}/layer.json", headers=headers).json()
    assert report["format"] == "quantized-mesh-1.0" and report["extensions"] == ["octvertexnormals"]
    with session_scope(engine) as session:
        revision = session.get(DatasetRevision, detail["published_revision"]["id"])
        assert revision is not None and revision.report is not None
        levels = revision.report["terrain"]["levels"]
        stored = session.scalar(
            select(func.count()).select_from(TileContent).where(TileContent.revision_id == revision.id)
        )
        assert stored == 1 + sum(level["tiles"] for level in levels)  # layer.json and every tile
    top = report["maxzoom"]
    assert [len(r) for r in report["available"]] == [1] * (top + 1) and top == levels[-1]["level"]

    # heights of the finest levels against the DEM (5 m pixels: resampling allowance grows with spacing)
    for level in (top, top - 1):
        error = levels[level]["max_error_m"]
        compared = _compare(
            client,
            headers,
            lambda z, x, y: f"/tiles/{fine_id}/{z}/{x}/{y}.terrain",
            dems["fine"],
            level,
            error,
            0.5 * (1 << (top - level)),
        )
        assert compared >= 100

    # the city's combined terrain: both datasets' ranges, the finest terrain where it covers a tile
    layer = client.get("/ground/terrain/layer.json", headers=headers).json()
    assert layer["maxzoom"] == top and layer["tiles"] == ["{z}/{x}/{y}.terrain?v={version}"]
    base_top = len(client.get(f"/tiles/{base['dataset']['id']}/layer.json").json()["available"]) - 1
    assert base_top < top and len(layer["available"][base_top]) == 2
    compared = _compare(
        client,
        headers,
        lambda z, x, y: f"/ground/terrain/{z}/{x}/{y}.terrain",
        dems["fine"],
        top,
        levels[top]["max_error_m"],
        0.5,
    )
    assert compared >= 100
    fine_tiles = levels[base_top]
    for x in range(fine_tiles["startX"], fine_tiles["endX"] + 1):
        for y in range(fine_tiles["startY"], fine_tiles["endY"] + 1):
            combined = client.get(f"/ground/terrain/{base_top}/{x}/{y}.terrain", headers=headers).content
            own = {
                name: client.get(f"/tiles/{d['dataset']['id']}/{base_top}/{x}/{y}.terrain", headers=headers).content
                for name, d in (("base", base), ("fine", fine))
            }
            with session_scope(engine) as session:  # whether the fine DEM covers the tile wholly
                covers = session.execute(
                    select(
                        func.ST_Covers(TileContent.bounds, func.ST_MakeEnvelope(*TileKey(base_top, x, y).bounds, 4326))
                    ).where(
                        TileContent.revision_id == detail["published_revision"]["id"],
                        TileContent.path == f"{base_top}/{x}/{y}.terrain",
                    )
                ).scalar()
            assert combined == own["fine" if covers else "base"]
    ground = client.get("/api/v1/ground/layers", headers=headers).json()
    assert {d["name"] for d in ground["terrain"]["datasets"]} == {"Base DEM", "Fine DEM", "CRS given"}
    assert client.get("/ground/terrain/3/0/0.terrain", headers=headers).status_code == 404

    # access as for datasets: the internal fine DEM is its organisation's only
    anonymous = client.get("/api/v1/ground/layers").json()
    assert {d["name"] for d in anonymous["terrain"]["datasets"]} == {"Base DEM"}
    assert client.get("/ground/terrain/layer.json").json()["maxzoom"] == base_top
    assert client.get(f"/tiles/{fine_id}/layer.json").status_code == 404
    assert (
        client.get(f"/ground/terrain/{top}/{levels[top]['startX']}/{levels[top]['startY']}.terrain").status_code == 404
    )

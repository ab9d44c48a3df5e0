"""Imagery end to end over HTTP with a real worker: an orthophoto GeoTIFF → a COG with overviews stored
in PostGIS → web-mercator and geographic PNG tiles cut on demand, compared with the source pixels;
cached (ETag, 304); access as for datasets; a corrupt or CRS-less orthophoto refused with nothing stored."""

from __future__ import annotations

import importlib.util
import io
import math
from pathlib import Path

import numpy as np
import rasterio
from PIL import Image
from pyproj import Transformer
from sqlalchemy import func, select

from cim_platform.core.db.engine import session_scope
from cim_platform.datasets.models import Dataset, TileContent
from tests.support.http_api import upload, wait_job

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "make_ground", REPO / "sample_models" / "ground" / "make_ground_samples.py"
)
assert _spec is not None and _spec.loader is not None
make_ground = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_ground)


def _pixel_in_tile(scheme: str, z: int, lon: float, lat: float) -> tuple[int, int, int, int]:
    """(x, y, column, row) of the tile of ``scheme`` holding lon/lat and the pixel inside it (256²)."""
    if scheme == "webmercator":
        n = 1 << z
        fx = (lon + 180) / 360 * n
        fy = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    else:
        size = 180 / (1 << z)
        fx, fy = (lon + 180) / size, (90 - lat) / size
    x, y = int(fx), int(fy)
    return x, y, int((fx - x) * 256), int((fy - y) * 256)


def test_imagery_upload_tiles_cache_access_and_refusals(client, cast, start_worker, settings, tmp_path: Path) -> None:
    start_worker()
    headers = cast.headers("surveyor")
    engine = client.app.state.engine
    source = make_ground.write_orthophoto(tmp_path / "ortho.tif", size=600, resolution=2.0)

    with session_scope(engine) as session:
        before = session.scalar(select(func.count()).select_from(Dataset))
    no_crs = make_ground.write_orthophoto(tmp_path / "ortho_no_crs.tif", size=64, resolution=2.0, crs=None)
    response = upload(client, headers, no_crs, name="no crs")
    assert response.status_code == 422 and "no coordinate reference system" in response.json()["detail"]
    corrupt = tmp_path / "corrupt_ortho.tif"
    corrupt.write_bytes(source.read_bytes()[:2000])
    response = upload(client, headers, corrupt, name="corrupt", kind="imagery")
    assert response.status_code == 422 and "cannot be read" in response.json()["detail"], response.text
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(Dataset)) == before

    response = upload(client, headers, source, name="Orthophoto", district="kangbashi", visibility="internal")
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["dataset"]["kind"] == "imagery"
    job = wait_job(client, headers, accepted["job"]["href"])
    assert job["state"] == "succeeded"
    dataset_id = accepted["dataset"]["id"]
    detail = client.get(f"/api/v1/datasets/{dataset_id}", headers=headers).json()
    assert detail["footprint"]["type"] == "MultiPolygon"
    # no 3D Tiles tileset: none is linked, and OGC GeoVolumes does not list it as a 3D container
    assert detail["tileset_url"] is None and detail["published_revision"]["tileset_url"] is None
    assert "tileset" not in job["links"]
    assert dataset_id not in {c["id"] for c in client.get("/ogc/collections", headers=headers).json()["collections"]}
    assert client.get(f"/ogc/collections/{dataset_id}", headers=headers).status_code == 404
    with session_scope(engine) as session:
        (media_type,) = session.execute(
            select(TileContent.media_type).where(TileContent.revision_id == detail["published_revision"]["id"])
        ).one()
    assert "cloud-optimized" in media_type
    cog = client.get(f"/tiles/{dataset_id}/imagery.tif", headers=headers)
    with rasterio.MemoryFile(cog.content) as memory, memory.open() as stored:
        assert stored.overviews(1)  # built, the upload had none
        assert stored.crs.to_epsg() == 4546

    layers = client.get("/api/v1/ground/layers", headers=headers).json()["imagery"]
    assert [layer["name"] for layer in layers] == ["Orthophoto"]
    assert "/webmercator/{z}/{x}/{y}.png" in layers[0]["webmercator_url"]

    with rasterio.open(source) as ortho:
        pixels, transform = ortho.read(), ortho.transform
    to_lonlat = Transformer.from_crs("EPSG:4546", "EPSG:4326", always_xy=True)
    rng = np.random.default_rng(7)
    for scheme, z in (("webmercator", 18), ("geographic", 17)):
        compared, deviations = 0, []
        for _ in range(12):
            row, col = (int(v) for v in rng.integers(20, 580, 2))
            east, north = transform.c + (col + 0.5) * transform.a, transform.f + (row + 0.5) * transform.e
            lon, lat = to_lonlat.transform(east, north)
            x, y, px, py = _pixel_in_tile(scheme, z, lon, lat)
            tile = client.get(f"/ground/imagery/{dataset_id}/{scheme}/{z}/{x}/{y}.png", headers=headers)
            assert tile.status_code == 200 and tile.headers["content-type"] == "image/png"
            image = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGBA"))
            got = image[py, px]
            window = pixels[:, max(0, row - 2) : row + 3, max(0, col - 2) : col + 3].reshape(3, -1).astype(int)
            assert got[3] == 255  # inside the orthophoto: opaque
            # the tile's pixel is the source's colour there, give or take resampling between neighbours
            # and the COG's JPEG compression (quality 90)
            below, above = window.min(axis=1) - got[:3].astype(int), got[:3].astype(int) - window.max(axis=1)
            deviations.append(int(np.max(np.maximum(np.maximum(below, above), 0))))
            compared += 1
        assert compared == 12
        assert max(deviations) <= 32 and np.mean(deviations) <= 5, (scheme, deviations)
    # cached: the same ETag, 304 when the viewer has it; outside the orthophoto: 204
    url = f"/ground/imagery/{dataset_id}/webmercator/18/{x}/{y}.png"
    x, y, _, _ = _pixel_in_tile("webmercator", 18, lon, lat)
    url = f"/ground/imagery/{dataset_id}/webmercator/18/{x}/{y}.png"
    first = client.get(url, headers=headers)
    assert client.get(url, headers={**headers, "If-None-Match": first.headers["etag"]}).status_code == 304
    assert client.get(f"/ground/imagery/{dataset_id}/webmercator/18/0/0.png", headers=headers).status_code == 204
    assert client.get(f"/ground/imagery/{dataset_id}/mercator/18/0/0.png", headers=headers).status_code == 422
    # an internal orthophoto is its organisation's only
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/ground/layers").json()["imagery"] == []

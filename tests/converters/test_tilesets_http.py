"""An existing 3D Tiles 1.0 tileset uploaded as a zip through the HTTP API with a real worker: detected,
upgraded to 1.1, stored in PostGIS, streamed and valid, properties browsable; hostile zips answered
422 at upload with nothing stored."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from cim_platform.core.db.engine import session_scope
from cim_platform.datasets.models import Dataset, DatasetRevision, TileContent
from tests.support.http_api import upload, wait_job
from tests.support.http_tiles import mirror
from tests.support.osgb import contents, hostile_zip, legacy_tileset_zip, property_table
from tests.support.validators import assert_output_valid


def _snapshot(engine) -> tuple:
    with session_scope(engine) as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Dataset, DatasetRevision, TileContent))


def test_legacy_tileset_upload_upgraded_and_streamed(client, cast, start_worker, tmp_path: Path) -> None:
    start_worker()
    headers = cast.headers("uploader_a")
    archive = legacy_tileset_zip(tmp_path)
    response = upload(client, headers, archive, name="示例 旧版瓦片 · legacy tiles", district="kangbashi",
                      visibility="public")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["dataset"]["kind"] == "tileset"  # sniffed from the zip's contents
    job = wait_job(client, headers, body["job"]["href"])
    assert job["state"] == "succeeded", job
    detail = client.get(f"/api/v1/datasets/{body['dataset']['id']}", headers=headers).json()
    assert detail["footprint"]["type"] == "MultiPolygon"
    revision = detail["published_revision"]
    assert revision["report"]["upgraded_to"].startswith("3D Tiles 1.1")
    entry = mirror(client, f"http://testserver{detail['tileset_url']}", tmp_path / "mirror", headers)
    tileset = assert_output_valid(entry.parent, entry.name)
    assert tileset["asset"]["version"] == "1.1"
    block = next(path for path, _w, _t in contents(entry) if path.name == "block.glb")
    assert set(property_table(block.read_bytes())) == {"name", "use", "floors", "height_m"}


def test_hostile_zips_get_422_and_leave_nothing(client, cast, settings, tmp_path: Path) -> None:
    headers = cast.headers("uploader_a")
    before = _snapshot(client.app.state.engine)
    for kind, words in (("traversal", "unsafe path"), ("symlink", "symbolic link"), ("bomb", "zip bomb")):
        response = upload(client, headers, hostile_zip(tmp_path / f"{kind}.zip", kind), name=kind)
        assert response.status_code == 422 and words in response.json()["detail"], response.text
    assert _snapshot(client.app.state.engine) == before
    assert not list((settings.uploads_dir / "incoming").glob("*"))
    assert not list((settings.uploads_dir / "sources").glob("*/*"))

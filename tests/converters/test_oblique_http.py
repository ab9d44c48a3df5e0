"""An oblique-photography OSGB delivery uploaded through the HTTP API with a real worker: detected,
converted with its levels, streamed and valid; a delivery without metadata.xml answered 422 at upload;
a damaged OSGB file fails the job as a data error with nothing stored."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from cim_platform.core.db.engine import session_scope
from cim_platform.datasets.models import TileContent
from tests.support.http_api import upload, wait_job
from tests.support.http_tiles import mirror
from tests.support.osgb import corrupt_member, oblique_zip
from tests.support.validators import assert_output_valid


def _tiles(engine) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(TileContent)) or 0)


def test_osgb_delivery_upload_converted_and_streamed(client, cast, start_worker, settings, tmp_path: Path) -> None:
    headers = cast.headers("surveyor")
    archive = oblique_zip(tmp_path / "delivery")
    missing = oblique_zip(tmp_path / "no-metadata", skip=("metadata.xml",))
    response = upload(client, headers, missing, name="no metadata")
    assert response.status_code == 422 and "no metadata.xml" in response.json()["detail"]
    assert not list((settings.uploads_dir / "incoming").glob("*"))
    start_worker()
    response = upload(client, headers, archive, name="示例 康巴什倾斜摄影 · oblique", district="kangbashi")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["dataset"]["kind"] == "oblique"
    job = wait_job(client, headers, body["job"]["href"])
    assert job["state"] == "succeeded", job
    detail = client.get(f"/api/v1/datasets/{body['dataset']['id']}", headers=headers).json()
    revision = detail["published_revision"]
    assert revision["report"]["counts"]["osgb_files"] == 10
    assert revision["georeferencing"]["crs"] == "EPSG:4546"
    assert detail["footprint"]["type"] == "MultiPolygon"
    entry = mirror(client, f"http://testserver{detail['tileset_url']}", tmp_path / "mirror", headers)
    assert_output_valid(entry.parent, entry.name)
    assert len(list((tmp_path / "mirror").rglob("*.glb"))) == 10
    # a damaged file: accepted (it takes OpenSceneGraph to tell), then a data error; nothing stored
    stored = _tiles(client.app.state.engine)
    damaged = corrupt_member(archive, tmp_path / "damaged.zip", "_L1_1.osgb")
    response = upload(client, headers, damaged, name="damaged")
    assert response.status_code == 202
    job = wait_job(client, headers, response.json()["job"]["href"])
    assert job["state"] == "failed" and job["error_kind"] == "data" and "OpenSceneGraph" in job["error"], job
    assert _tiles(client.app.state.engine) == stored
    revisions = client.get(f"/api/v1/datasets/{response.json()['dataset']['id']}/revisions", headers=headers).json()
    assert revisions["revisions"][0]["state"] == "failed"

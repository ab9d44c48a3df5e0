"""Datasets end to end over HTTP with a real worker: upload, convert, store in PostGIS, stream."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cim_platform.core.db.engine import session_scope
from cim_platform.core.jobs import service as job_service
from cim_platform.datasets.models import Dataset, DatasetRevision, TileContent
from tests.support.http_api import upload, wait_job
from tests.support.http_tiles import mirror
from tests.support.validators import assert_output_valid
from tests.support.waiting import wait_for

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
LAS = CORPUS / "survey" / "hexbin-crop.las"


@pytest.fixture
def converted(client, cast, start_worker):
    start_worker()
    headers = cast.headers("surveyor")
    response = upload(client, headers, LAS, name="Hexbin survey", district="kangbashi", visibility="internal")
    assert response.status_code == 202, response.text
    body = response.json()
    job = wait_job(client, headers, body["job"]["href"])
    assert job["state"] == "succeeded", job
    return body


def test_upload_convert_stream(client, cast, converted, tmp_path: Path) -> None:
    headers = cast.headers("surveyor")
    dataset_id = converted["dataset"]["id"]
    detail = client.get(f"/api/v1/datasets/{dataset_id}", headers=headers).json()
    assert detail["kind"] == "pointcloud" and detail["district"] == "150603" and detail["lod"] == "points"
    assert detail["tileset_url"] == f"/tiles/{dataset_id}/tileset.json"
    assert detail["footprint"]["type"] == "MultiPolygon"
    revision = detail["published_revision"]
    assert revision["source"]["sha256"] == hashlib.sha256(LAS.read_bytes()).hexdigest()
    assert revision["source"]["bytes"] == LAS.stat().st_size
    origin = revision["georeferencing"]["origin"]
    assert 60 < origin["lon"] < 70 and 30 < origin["lat"] < 35  # UTM 42N: Afghanistan/Pakistan
    # the original is kept byte for byte
    source = client.get(f"/api/v1/datasets/{dataset_id}/revisions/{revision['id']}/source", headers=headers)
    assert source.status_code == 200 and source.content == LAS.read_bytes()
    # stream everything a viewer would, and validate it
    entry = mirror(client, f"http://testserver/tiles/{dataset_id}/tileset.json", tmp_path / "mirror", headers)
    assert_output_valid(entry.parent, entry.name)
    with session_scope(client.app.state.engine) as session:
        stored = session.scalar(
            select(func.count()).select_from(TileContent).where(TileContent.revision_id == revision["id"])
        )
        with_bounds = session.scalar(
            select(func.count())
            .select_from(TileContent)
            .where(TileContent.revision_id == revision["id"], TileContent.bounds.is_not(None))
        )
    assert stored == revision["tiles"]["count"] and with_bounds == stored - 1  # all but tileset.json


def test_http_caching_cors_and_visibility(client, cast, converted) -> None:
    dataset_id = converted["dataset"]["id"]
    headers = cast.headers("surveyor")
    url = f"/tiles/{dataset_id}/tileset.json"
    first = client.get(url, headers={**headers, "Origin": "http://viewer.example"})
    assert first.status_code == 200 and first.headers["access-control-allow-origin"] in ("*", "http://viewer.example")
    assert first.headers["content-type"].startswith("application/json")
    etag = first.headers["etag"]
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and "content-encoding" not in again.headers
    tileset = first.json()
    uri = next(iter(_content_uris(tileset["root"])))
    assert uri.startswith(f"r/{converted['revision']['id']}/")  # pinned: a viewer never mixes revisions
    content = client.get(f"/tiles/{dataset_id}/{uri}", headers=headers)
    assert content.status_code == 200 and "immutable" in content.headers["cache-control"]
    assert content.headers["etag"] == f'"{hashlib.sha256(content.content).hexdigest()}"'
    assert (
        client.get(
            f"/tiles/{dataset_id}/{uri}", headers={**headers, "If-None-Match": content.headers["etag"]}
        ).status_code
        == 304
    )
    # the first answer came through the routes (and the database); this one from the in-process fast path
    fast = client.get(f"/tiles/{dataset_id}/{uri}", headers={**headers, "Origin": "http://viewer.example"})
    for name in ("etag", "cache-control", "content-type", "content-length", "vary"):
        assert content.headers.get(name) == fast.headers.get(name), name
    assert fast.content == content.content and fast.headers["access-control-allow-origin"]
    head = client.head(f"/tiles/{dataset_id}/{uri}", headers=headers)
    assert head.status_code == 200 and head.headers["content-type"] == content.headers["content-type"]
    assert (
        client.get(f"/tiles/{dataset_id}/r/{converted['revision']['id']}/nope.glb", headers=headers).status_code == 404
    )
    # internal: other organisations and anonymous viewers do not learn it exists; a token in the URL works
    assert client.get(url).status_code == 404
    assert client.get(url, headers=cast.headers("uploader_b")).status_code == 404
    unknown = uuid.uuid4()
    for path in ("tileset.json", uri):  # an internal dataset answers exactly like one that does not exist
        hidden = client.get(f"/tiles/{dataset_id}/{path}").json()["detail"]
        missing = client.get(f"/tiles/{unknown}/{path}").json()["detail"]
        assert hidden.replace(dataset_id, "ID") == missing.replace(str(unknown), "ID")
    assert client.get(url, headers=cast.headers("official")).status_code == 200
    assert client.get(url, params={"access_token": cast.tokens["surveyor"]}).status_code == 200
    assert client.get(f"/api/v1/datasets/{dataset_id}").status_code == 404
    listed = client.get("/api/v1/datasets").json()
    assert dataset_id not in [d["id"] for d in listed["datasets"]]
    # once public, anyone streams it and the city tileset lists it
    with session_scope(client.app.state.engine) as session:
        session.get(Dataset, dataset_id).visibility = "public"
    assert client.get(url).status_code == 200
    city = client.get("/tiles/city/tileset.json").json()
    district = city["root"]["children"][0]
    assert district["extras"]["district"] == "150603"
    assert district["children"][0]["content"]["uri"] == f"../{dataset_id}/tileset.json"
    assert client.get("/api/v1/datasets", params={"district": "kangbashi"}).json()["count"] == 1
    assert client.get("/api/v1/datasets", params={"district": "dalad"}).json()["count"] == 0
    assert client.get("/api/v1/datasets", params={"bbox": "60,30,70,35"}).json()["count"] == 1
    assert client.get("/api/v1/datasets", params={"bbox": "100,30,110,35"}).json()["count"] == 0
    ogc = client.get(f"/ogc/collections/{dataset_id}").json()
    assert any(link["type"] == "application/3dtiles+json" for link in ogc["links"])
    assert len(ogc["extent"]["spatial"]["bbox"][0]) == 6


def test_city_tileset_is_valid(client, cast, converted, tmp_path: Path) -> None:
    with session_scope(client.app.state.engine) as session:
        session.get(Dataset, converted["dataset"]["id"]).visibility = "public"
    entry = mirror(client, "http://testserver/tiles/city/tileset.json", tmp_path / "city")
    assert_output_valid(entry.parent, entry.name)


def test_revisions_and_publishing(client, cast, converted, tmp_path: Path) -> None:
    headers = cast.headers("surveyor")
    dataset_id = converted["dataset"]["id"]
    first_revision = converted["revision"]["id"]
    copy = tmp_path / "hexbin-v2.las"
    shutil.copy(LAS, copy)
    with copy.open("rb") as handle:
        response = client.post(
            f"/api/v1/datasets/{dataset_id}/revisions", headers=headers, files={"file": (copy.name, handle)}
        )
    assert response.status_code == 202, response.text
    assert response.json()["revision"]["number"] == 2
    assert wait_job(client, headers, response.json()["job"]["href"])["state"] == "succeeded"
    second_revision = response.json()["revision"]["id"]
    detail = client.get(f"/api/v1/datasets/{dataset_id}", headers=headers).json()
    assert detail["published_revision_id"] == second_revision
    # earlier revisions stay and can be published again (a rollback)
    revisions = client.get(f"/api/v1/datasets/{dataset_id}/revisions", headers=headers).json()["revisions"]
    assert [r["number"] for r in revisions] == [1, 2] and all(r["state"] == "ready" for r in revisions)
    assert client.get(f"/tiles/{dataset_id}/r/{first_revision}/tileset.json", headers=headers).status_code == 200
    back = client.post(f"/api/v1/datasets/{dataset_id}/revisions/{first_revision}/publish", headers=headers)
    assert back.status_code == 200 and back.json()["published_revision_id"] == first_revision
    pinned = client.get(f"/tiles/{dataset_id}/tileset.json", headers=headers).json()
    assert next(iter(_content_uris(pinned["root"]))).startswith(f"r/{first_revision}/")
    assert back.json()["publication"] == "pinned"
    # a rollback stays: a third revision converts but is not published over the owner's choice
    with LAS.open("rb") as handle:
        third = client.post(
            f"/api/v1/datasets/{dataset_id}/revisions", headers=headers, files={"file": ("hexbin-v3.las", handle)}
        ).json()
    assert wait_job(client, headers, third["job"]["href"])["state"] == "succeeded"
    detail = client.get(f"/api/v1/datasets/{dataset_id}", headers=headers).json()
    assert detail["published_revision_id"] == first_revision
    newest = client.post(f"/api/v1/datasets/{dataset_id}/revisions/{third['revision']['id']}/publish", headers=headers)
    assert newest.json()["publication"] == "auto"
    # another organisation can neither add revisions nor publish
    assert (
        client.post(
            f"/api/v1/datasets/{dataset_id}/revisions/{first_revision}/publish", headers=cast.headers("uploader_b")
        ).status_code
        == 404
    )


def _content_uris(tile: dict):
    if "content" in tile:
        yield tile["content"]["uri"]
    for child in tile.get("children", []):
        yield from _content_uris(child)


def _snapshot(engine) -> tuple:
    with session_scope(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Dataset)),
            session.scalar(select(func.count()).select_from(DatasetRevision)),
            session.scalar(select(func.count()).select_from(TileContent)),
            session.scalar(select(func.sum(func.length(TileContent.data)))),
        )


def test_bad_uploads_get_clear_answers_and_touch_nothing(client, cast, converted, settings, tmp_path: Path) -> None:
    headers = cast.headers("surveyor")
    engine = client.app.state.engine
    before = _snapshot(engine)
    doc = tmp_path / "minutes.docx"
    doc.write_bytes(b"PK\x03\x04 not a model")
    response = upload(client, headers, doc, name="x")
    assert response.status_code == 422 and "not a supported format" in response.json()["detail"]
    big = tmp_path / "big.las"
    big.write_bytes(b"\0" * (settings.max_upload_bytes + 10))
    response = upload(client, headers, big, name="too big")
    assert response.status_code == 413 and "exceeds the limit" in response.json()["detail"]
    assert client.post("/api/v1/datasets", headers=headers, data={"name": "no file"}).status_code == 422
    response = upload(client, headers, LAS, name="bad district", district="atlantis")
    assert response.status_code == 422 and "unknown district" in response.json()["detail"]
    response = upload(client, headers, LAS, name="bad crs", crs="EPSG:999999")
    assert response.status_code == 422 and "crs" in response.json()["detail"]
    assert upload(client, cast.headers("viewer"), LAS, name="viewer upload").status_code == 403
    assert upload(client, {}, LAS, name="anonymous").status_code == 401
    assert _snapshot(engine) == before
    assert not list((settings.uploads_dir / "incoming").glob("*"))  # no half-written files left behind
    # a truncated file is accepted, then fails in the worker as a data error with a reason
    truncated = tmp_path / "truncated.las"
    truncated.write_bytes(LAS.read_bytes()[:5000])
    response = upload(client, headers, truncated, name="truncated")
    assert response.status_code == 202
    job = wait_job(client, headers, response.json()["job"]["href"])
    assert job["state"] == "failed" and job["error_kind"] == "data" and job["error"]
    assert client.get("/health").json()["status"] == "ok"
    revision = client.get(f"/api/v1/datasets/{response.json()['dataset']['id']}/revisions", headers=headers).json()
    assert revision["revisions"][0]["state"] == "failed"
    after = _snapshot(engine)
    assert after[2:] == before[2:]  # no tiles were added or changed


def test_cancel_a_conversion(client, cast, start_worker, settings, tmp_path: Path) -> None:
    headers = cast.headers("surveyor")
    response = upload(client, headers, LAS, name="to cancel")
    job_href = response.json()["job"]["href"]
    assert client.delete(job_href, headers=headers).json()["state"] == "cancelled"  # still queued: cancelled at once
    start_worker()
    # a job queued after the cancelled one: once the worker has run it, it has passed the cancelled one
    engine = client.app.state.engine
    later = job_service.submit(settings, engine, "test.sleep", {"seconds": 0})
    later_href = f"/api/v1/jobs/{later}"
    assert wait_job(client, cast.headers("admin"), later_href, timeout=120)["state"] == "succeeded"
    assert client.get(job_href, headers=headers).json()["state"] == "cancelled"
    dataset = client.get(f"/api/v1/datasets/{response.json()['dataset']['id']}", headers=headers).json()
    assert dataset["published_revision_id"] is None
    revisions = client.get(f"/api/v1/datasets/{dataset['id']}/revisions", headers=headers).json()["revisions"]
    assert revisions[0]["state"] == "cancelled"  # the revision follows its job
    with session_scope(engine) as session:  # and was never converted
        revision = session.get(DatasetRevision, uuid.UUID(revisions[0]["id"]))
        assert revision is not None and revision.converted_at is None and revision.tileset is None
        tiles = session.scalar(
            select(func.count()).select_from(TileContent).where(TileContent.revision_id == revision.id)
        )
    assert tiles == 0


def test_report_is_kept(client, cast, converted) -> None:
    headers = cast.headers("surveyor")
    revision = converted["revision"]["id"]
    detail = client.get(f"/api/v1/datasets/{converted['dataset']['id']}/revisions/{revision}", headers=headers).json()
    with session_scope(client.app.state.engine) as session:
        stored = session.get(DatasetRevision, uuid.UUID(revision))
        assert stored is not None
        report = stored.report
    assert report["kind"] == "pointcloud"
    assert detail["report"] == report  # the API gives the report exactly as the conversion stored it


def test_worker_killed_mid_conversion(client, cast, start_worker, tmp_path: Path) -> None:
    import signal

    slow = CORPUS / "ifc" / "AC20-FZK-Haus.ifc"
    headers = cast.headers("uploader_a")
    body = upload(client, headers, slow, name="FZK house", visibility="public").json()
    job_href, dataset_id = body["job"]["href"], body["dataset"]["id"]
    first = start_worker()
    wait_for(lambda: client.get(job_href, headers=headers).json()["state"] == "running", timeout=120, interval=0.2)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    # nothing half-published: no tiles, no published revision, the revision still pending
    assert _snapshot(client.app.state.engine)[2] in (0, None)
    detail = client.get(f"/api/v1/datasets/{dataset_id}", headers=headers).json()
    assert detail["published_revision_id"] is None
    assert client.get(f"/tiles/{dataset_id}/tileset.json", headers=headers).status_code == 404
    start_worker()
    job = wait_job(client, headers, job_href, timeout=600)
    assert job["state"] == "succeeded" and job["attempts"] == 2, job
    entry = mirror(client, f"http://testserver/tiles/{dataset_id}/tileset.json", tmp_path / "fzk")
    assert_output_valid(entry.parent, entry.name)


def test_zip_bomb_raw_upload_and_gzip(client, cast, start_worker, tmp_path: Path) -> None:
    import zipfile

    headers = cast.headers("uploader_a")
    bomb = tmp_path / "bomb.ifczip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("model.ifc", "w") as member:
        for _ in range(200):
            member.write(b"\0" * (1 << 20))
    response = upload(client, headers, bomb, name="bomb")
    assert response.status_code == 202
    start_worker()
    job = wait_job(client, headers, response.json()["job"]["href"])
    assert job["state"] == "failed" and job["error_kind"] == "data" and "zip bomb" in job["error"]
    # a raw PUT of a very large file's bytes adds a revision just like a multipart upload
    model = CORPUS / "ifc" / "geographic-referencing-utm.ifc"
    created = upload(client, headers, model, name="utm sample", visibility="public").json()
    dataset_id = created["dataset"]["id"]
    assert wait_job(client, headers, created["job"]["href"])["state"] == "succeeded"
    raw = client.put(
        f"/api/v1/datasets/{dataset_id}/revisions/raw",
        params={"filename": "utm-v2.ifc"},
        content=model.read_bytes(),
        headers=headers,
    )
    assert raw.status_code == 202, raw.text
    assert raw.json()["revision"]["number"] == 2
    assert raw.json()["revision"]["source"]["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert wait_job(client, headers, raw.json()["job"]["href"])["state"] == "succeeded"
    too_big = client.put(
        f"/api/v1/datasets/{dataset_id}/revisions/raw",
        params={"filename": "big.ifc"},
        headers={**headers, "Content-Length": str(10**12)},
        content=b"x",
    )
    assert too_big.status_code == 413
    # JSON is gzipped for clients that accept it, and only then
    zipped = client.get(f"/tiles/{dataset_id}/tileset.json", headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200 and json.loads(zipped.content)["asset"]["version"] == "1.1"
    raw_json = client.get(f"/tiles/{dataset_id}/tileset.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw_json.headers
    assert len(raw_json.content) >= 1024  # an IFC tileset carries its metadata schema: worth compressing
    assert zipped.headers["content-encoding"] == "gzip" and zipped.content == raw_json.content  # decoded by httpx
    assert (
        304
        == client.get(
            f"/tiles/{dataset_id}/tileset.json",
            headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["etag"]},
        ).status_code
    )


def test_cancel_a_running_conversion(client, cast, start_worker) -> None:
    headers = cast.headers("uploader_a")
    body = upload(client, headers, CORPUS / "ifc" / "AC20-FZK-Haus.ifc", name="to stop").json()
    start_worker()
    wait_for(lambda: client.get(body["job"]["href"], headers=headers).json()["state"] == "running", timeout=120)
    assert client.delete(body["job"]["href"], headers=headers).status_code == 200
    job = wait_job(client, headers, body["job"]["href"], timeout=120)
    assert job["state"] == "cancelled" and job["progress"] < 1.0
    revisions = client.get(f"/api/v1/datasets/{body['dataset']['id']}/revisions", headers=headers).json()
    assert revisions["revisions"][0]["state"] == "cancelled"
    assert _snapshot(client.app.state.engine)[2] in (0, None)  # no tiles stored


def test_hostile_inputs_get_4xx_and_leave_nothing(client, cast, settings, tmp_path: Path) -> None:
    headers = cast.headers("uploader_a")
    before = _snapshot(client.app.state.engine)
    for params in ({"q": "\x00"}, {"kind": "\x00"}, {"district": "\x00"}, {"offset": "100000000000000000000"}):
        response = client.get("/api/v1/datasets", params=params)
        assert response.status_code == 422, (params, response.text)
    response = upload(client, headers, LAS, name="bad\x00name")
    assert response.status_code == 422 and "NUL" in response.json()["detail"]
    response = upload(client, headers, LAS, name="x", height_field="h\x00")
    assert response.status_code == 422
    with LAS.open("rb") as handle:  # 300 bytes of UTF-8: more than a file name may have
        response = client.post(
            "/api/v1/datasets",
            headers=headers,
            data={"name": "long Chinese file name"},
            files={"file": ("康" * 100 + ".las", handle)},
        )
    assert response.status_code == 202, response.text
    assert len(response.json()["revision"]["source"]["filename"].encode()) <= 200
    assert response.json()["revision"]["source"]["filename"].endswith(".las")
    # a multipart body cut before its closing boundary is refused, not half-read
    boundary = "cut0123"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.las"\r\n\r\n').encode()
    body += LAS.read_bytes()[:2000]
    cut = client.post(
        "/api/v1/datasets",
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body,
    )
    assert cut.status_code == 422 and "cut off" in cut.json()["detail"]
    # tokens in the query string are for reading only (they end up in logs)
    with LAS.open("rb") as handle:
        query_token = client.post(
            "/api/v1/datasets",
            params={"access_token": cast.tokens["uploader_a"]},
            data={"name": "q"},
            files={"file": (LAS.name, handle)},
        )
    assert query_token.status_code == 401
    after = _snapshot(client.app.state.engine)
    assert after[0] == before[0] + 1 and after[2:] == before[2:]  # only the long-name dataset was added
    sources = list((settings.uploads_dir / "sources").glob("*/*"))
    assert len(sources) == after[1]  # no orphaned source files
    assert not list((settings.uploads_dir / "incoming").glob("*"))

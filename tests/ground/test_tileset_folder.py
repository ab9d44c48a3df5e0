"""A raw 3D Tiles tileset uploaded as a folder's files (several ``files`` parts whose file names carry the
relative paths, as browsers send for ``<input webkitdirectory>``) through the HTTP API with a real
worker: a 1.0 tileset upgraded to 1.1 and an implicit 1.1 one expanded, both streamed and valid; the
original upload kept as the zip the files were assembled into. Hostile folders (traversal, absolute
paths, two roots, missing contents, too many files, a path twice, a file and a folder at once) are
answered 4xx with what is wrong, and nothing is stored."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from cim_platform.core.db.engine import session_scope
from cim_platform.datasets import folder_upload
from cim_platform.datasets.models import Dataset, DatasetRevision, TileContent
from sample_models.tilesets.make_tileset_samples import FRAME, tilesets
from tests.support.http_api import wait_job
from tests.support.http_tiles import mirror
from tests.support.osgb import contents, property_table, subtree_bytes
from tests.support.validators import assert_output_valid
from tiles.points import write_points_glb


def _post_folder(client, headers, files: dict[str, bytes], url: str = "/api/v1/datasets", **fields: str):
    parts = [("files", (path, io.BytesIO(data), "application/octet-stream")) for path, data in files.items()]
    return client.post(url, headers=headers, data=fields, files=parts)


def _snapshot(engine) -> tuple:
    with session_scope(engine) as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Dataset, DatasetRevision, TileContent))


def _implicit_files() -> dict[str, bytes]:
    """A 1.1 quadtree folder: root and three of its four children available, one subtree file."""
    west, south, east, north = (math.radians(v) for v in (109.78, 39.60, 109.80, 39.62))
    root = {"boundingVolume": {"region": [west, south, east, north, 1280.0, 1300.0]}, "geometricError": 40,
            "refine": "REPLACE", "content": {"uri": "content/{level}/{x}/{y}.glb"},
            "implicitTiling": {"subdivisionScheme": "QUADTREE", "subtreeLevels": 2, "availableLevels": 2,
                               "subtrees": {"uri": "subtrees/{level}/{x}/{y}.subtree"}}}
    bits = bytes([0b00011011])  # the root and children (0,0) (0,1) (1,1) in Morton order; (1,0) missing
    subtree = subtree_bytes({"buffers": [{"byteLength": 8}],
                             "bufferViews": [{"buffer": 0, "byteOffset": 0, "byteLength": 1}],
                             "tileAvailability": {"bitstream": 0}, "contentAvailability": [{"bitstream": 0}],
                             "childSubtreeAvailability": {"constant": 0}}, bits)
    files = {"城市 implicit/tileset.json": json.dumps({"asset": {"version": "1.1"}, "geometricError": 80,
                                                     "root": root}).encode(),
             "城市 implicit/subtrees/0/0/0.subtree": subtree}
    for level, x, y in ((0, 0, 0), (1, 0, 0), (1, 0, 1), (1, 1, 1)):
        lon = math.degrees(west + (x + 0.5) * (east - west) / 2**level)
        lat = math.degrees(south + (y + 0.5) * (north - south) / 2**level)
        centre = FRAME.geodetic_to_enu(lon, lat, 1290.0)[0]
        files[f"城市 implicit/content/{level}/{x}/{y}.glb"] = write_points_glb(centre + np.eye(3)).data
    return files


def test_raw_1_0_tileset_folder_upgraded_and_streamed(client, cast, start_worker, settings, tmp_path: Path) -> None:
    start_worker()
    headers = cast.headers("uploader_a")
    files = tilesets()  # kangbashi_legacy/tileset.json, b3dm, pnts, cmpt, an external tileset with an i3dm
    response = _post_folder(client, headers, files, district="kangbashi", visibility="public")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["dataset"]["kind"] == "tileset" and body["dataset"]["name"] == "kangbashi_legacy"
    job = wait_job(client, headers, body["job"]["href"])
    assert job["state"] == "succeeded", job
    detail = client.get(f"/api/v1/datasets/{body['dataset']['id']}", headers=headers).json()
    revision = detail["published_revision"]
    assert revision["report"]["upgraded_to"].startswith("3D Tiles 1.1")
    assert revision["report"]["counts"]["contents_in"] == {"b3dm": 2, "pnts": 2, "i3dm": 1}
    assert detail["footprint"]["type"] == "MultiPolygon"
    entry = mirror(client, f"http://testserver{detail['tileset_url']}", tmp_path / "mirror", headers)
    assert assert_output_valid(entry.parent, entry.name)["asset"]["version"] == "1.1"
    block = next(path for path, _w, _t in contents(entry) if path.name == "block.glb")
    assert set(property_table(block.read_bytes())) == {"name", "use", "floors", "height_m"}
    source = client.get(f"/api/v1/datasets/{body['dataset']['id']}/revisions/{revision['id']}/source",
                        headers=headers)
    assert source.status_code == 200
    with zipfile.ZipFile(io.BytesIO(source.content)) as kept:  # the original: the folder's files, byte for byte
        assert {name: kept.read(name) for name in kept.namelist()} == files


def test_implicit_1_1_tileset_folder_expanded(client, cast, start_worker, tmp_path: Path) -> None:
    start_worker()
    headers = cast.headers("uploader_a")
    response = _post_folder(client, headers, _implicit_files(), visibility="public")
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["dataset"]["name"] == "城市 implicit"
    job = wait_job(client, headers, body["job"]["href"])
    assert job["state"] == "succeeded", job
    detail = client.get(f"/api/v1/datasets/{body['dataset']['id']}", headers=headers).json()
    assert detail["published_revision"]["report"]["counts"]["implicit_roots_expanded"] == 1
    entry = mirror(client, f"http://testserver{detail['tileset_url']}", tmp_path / "mirror", headers)
    root = assert_output_valid(entry.parent, entry.name)["root"]
    assert "implicitTiling" not in root and len(root["children"]) == 3
    assert len([path for path, _w, _t in contents(entry)]) == 4


def _hostile_cases() -> list[tuple[str, dict[str, bytes], str]]:
    good = tilesets()
    without_block = {k: v for k, v in good.items() if not k.endswith("block.b3dm")}
    implicit_without = {k: v for k, v in _implicit_files().items() if not k.endswith("1/1/1.glb")}
    return [
        ("traversal", {**good, "kangbashi_legacy/../../evil.txt": b"x"}, "leaves the folder"),
        ("absolute", {**good, "/etc/evil.txt": b"x"}, "absolute path"),
        ("drive", {**good, "C:/evil.txt": b"x"}, "absolute path"),
        ("twice", {**good, "kangbashi_legacy/MIXED.cmpt": b"x"}, "sent twice"),
        ("two roots", {**good, **{k.replace("kangbashi_legacy/", "other/"): v for k, v in good.items()}},
         "several tileset.json at the same depth"),
        ("missing", without_block, "kangbashi_legacy/buildings/block.b3dm"),
        ("missing implicit", implicit_without, "城市 implicit/content/1/1/1.glb"),
        ("no tileset", {"photos/a.jpg": b"\xff\xd8\xff", "photos/b.jpg": b"\xff\xd8\xff"}, "holds its tileset.json"),
    ]


@pytest.mark.parametrize("case", range(len(_hostile_cases())), ids=[c[0] for c in _hostile_cases()])
def test_hostile_folders_get_4xx_and_leave_nothing(client, cast, settings, case: int) -> None:
    headers = cast.headers("uploader_a")
    _kind, files, words = _hostile_cases()[case]
    before = _snapshot(client.app.state.engine)
    response = _post_folder(client, headers, files, name="hostile")
    assert response.status_code in (400, 413, 422) and words in response.json()["detail"], response.text
    assert _snapshot(client.app.state.engine) == before
    assert not list((settings.uploads_dir / "incoming").glob("*"))
    assert not list((settings.uploads_dir / "sources").glob("*/*"))


def test_too_many_files_and_file_with_folder_refused(client, cast, settings, monkeypatch) -> None:
    headers = cast.headers("uploader_a")
    before = _snapshot(client.app.state.engine)
    monkeypatch.setattr(folder_upload, "MAX_FILES", 5)  # the zip limit (200 000 members), lowered for the test
    response = _post_folder(client, headers, tilesets())  # 7 files
    assert response.status_code == 422 and "more than 5 files" in response.json()["detail"], response.text
    monkeypatch.undo()
    parts = [("file", ("a.zip", io.BytesIO(b"PK"), "application/zip")),
             ("files", ("t/tileset.json", io.BytesIO(b"{}"), "application/json"))]
    response = client.post("/api/v1/datasets", headers=headers, files=parts)
    assert response.status_code == 422 and "not both" in response.json()["detail"], response.text
    assert _snapshot(client.app.state.engine) == before
    assert not list((settings.uploads_dir / "incoming").glob("*"))

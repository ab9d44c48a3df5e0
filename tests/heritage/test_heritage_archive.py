"""The survey-and-mapping archive: items kept byte for byte with SHA-256, QA stages, versions that
supersede without overwriting, completeness per record and city-wide, and the BagIt package (validates
with the bagit library, fails when a byte changes)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import bagit
import pytest

from tests.support.heritage import BUILDINGS, listed

ITEMS = "/api/v1/heritage/items"
COMPLETING = [
    ("features", "photo", "facade.jpg"),
    ("technical", "plan", "ground-floor.dwg"),
    ("use_ownership", "ownership_record", "deed-1952.pdf"),
    ("interventions", "repair_record", "repair-2008.pdf"),
    ("survey", "survey_report", "report.pdf"),
]


def _file(
    client: Any,
    headers: dict[str, str],
    building_id: str,
    section: str,
    kind: str,
    name: str,
    data: bytes,
    **fields: str,
) -> Any:
    form = {"section": section, "kind": kind, "title": f"示例 {kind}", **fields}
    return client.post(
        f"{BUILDINGS}/{building_id}/items", headers=headers, data=form, files={"file": (name, io.BytesIO(data))}
    )


def _accept(client: Any, cast: Any, item_id: str) -> None:
    for stage in ("re_check", "accepted"):
        response = client.post(f"{ITEMS}/{item_id}/qa", headers=cast.headers("official"), json={"to": stage})
        assert response.status_code == 200, response.text


def test_items_qa_versions_and_completeness(client, cast) -> None:
    surveyor, official = cast.headers("surveyor"), cast.headers("official")
    record, _ = listed(client, cast, "150602-0300")
    other, _ = listed(client, cast, "150602-0301")
    misplaced = _file(client, surveyor, record["id"], "technical", "repair_record", "r.pdf", b"x")
    assert misplaced.status_code == 422
    ids = {}
    for section, kind, name in COMPLETING:
        data = f"{kind} contents ".encode() * 100
        response = _file(
            client,
            surveyor,
            record["id"],
            section,
            kind,
            name,
            data,
            plane_datum="EPSG:4546",
            height_datum="yellow_sea_1985",
            survey_tier="full",
            accuracy="±5 mm",
            captured_on="2026-10-01",
            surveyor="Li Wei",
            organisation="Ordos Survey Team",
            equipment="Leica RTC360",
            event_date="2008-05-01",
        )
        assert response.status_code == 201, response.text
        item = response.json()
        assert item["bytes"] == len(data) and item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["qa_stage"] == "self_check" and item["qa_log"][0]["by"] == "surveyor"
        assert client.get(item["file_url"], headers=cast.headers("viewer")).content == data
        ids[section] = item["id"]
    report = client.get("/api/v1/heritage/completeness", headers=official).json()
    assert report["listed_total"] == 2 and report["listed_complete"] == 0
    own = client.post(f"{ITEMS}/{ids['survey']}/qa", headers=surveyor, json={"to": "re_check"})
    assert own.status_code == 409  # the re-check is someone else's
    assert client.post(f"{ITEMS}/{ids['survey']}/qa", headers=official, json={"to": "accepted"}).status_code == 409
    for item_id in ids.values():
        _accept(client, cast, item_id)
    report = client.get("/api/v1/heritage/completeness", headers=official, params={"district": "dongsheng"}).json()
    rows = {row["code"]: row for row in report["buildings"]}
    assert rows["150602-0300"]["complete"] and rows["150602-0300"]["missing"] == []
    assert rows["150602-0301"]["missing"] == [s for s, _, _ in COMPLETING]
    assert report["share_complete"] == 0.5 and other["id"] in {row["id"] for row in report["buildings"]}
    # a new version supersedes (the old stays, the section waits for the new one's QA)
    newer = _file(
        client, surveyor, record["id"], "technical", "plan", "ground-floor-v2.dwg", b"v2", supersedes=ids["technical"]
    )
    assert newer.status_code == 201 and newer.json()["version_no"] == 2
    current = client.get(f"{BUILDINGS}/{record['id']}/items", headers=surveyor).json()["items"]
    assert newer.json()["id"] in {i["id"] for i in current} and ids["technical"] not in {i["id"] for i in current}
    every = client.get(f"{BUILDINGS}/{record['id']}/items", headers=surveyor, params={"every_version": True}).json()
    old = next(i for i in every["items"] if i["id"] == ids["technical"])
    assert old["superseded_at"] is not None and client.get(old["file_url"], headers=surveyor).status_code == 200
    again = _file(client, surveyor, record["id"], "technical", "plan", "x.dwg", b"v3", supersedes=ids["technical"])
    assert again.status_code == 409
    report = client.get("/api/v1/heritage/completeness", headers=official).json()
    assert report["listed_complete"] == 0
    assert {r["code"]: r for r in report["buildings"]}["150602-0300"]["missing"] == ["technical"]
    sections = {s["section"]: s for s in client.get(f"{BUILDINGS}/{record['id']}", headers=surveyor).json()["archive"]}
    assert [name for name, s in sections.items() if not s["complete"]] == ["technical"]
    assert sections["technical"] == {"section": "technical", "items": 1, "accepted": 0, "complete": False}
    assert sections["survey"] == {"section": "survey", "items": 1, "accepted": 1, "complete": True}
    retired = client.post(f"{ITEMS}/{ids['survey']}/retire", headers=surveyor, json={"reason": "wrong building"})
    assert retired.status_code == 403  # accepted items are retired by reviewers
    history = client.get(f"{BUILDINGS}/{record['id']}/history", headers=surveyor).json()["entries"]
    assert sum(1 for e in history if e["action"] == "heritage.item.added") == 6


def test_package_validates_and_detects_a_changed_byte(client, cast, tmp_path: Path) -> None:
    surveyor = cast.headers("surveyor")
    record, _ = listed(client, cast, "150602-0310")
    photo = bytes(range(256)) * 40
    item = _file(client, surveyor, record["id"], "features", "photo", "东门.jpg", photo).json()
    _file(client, surveyor, record["id"], "survey", "point_cloud", "scan.laz", b"LASF" + b"\0" * 500)
    response = client.get(f"{BUILDINGS}/{record['id']}/package", headers=cast.headers("viewer"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        archive.extractall(tmp_path)
    bag_dir = tmp_path / "heritage-150602-0310"
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert bag.info["External-Identifier"] == "150602-0310"
    packed = bag_dir / "data" / "items" / "features" / item["id"] / "东门.jpg"
    assert packed.read_bytes() == photo
    assert (bag_dir / "data" / "record.json").exists() and (bag_dir / "data" / "history.json").exists()
    changed = bytearray(photo)
    changed[1000] ^= 0x01
    packed.write_bytes(bytes(changed))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate()


@pytest.mark.parametrize("actor", [None, "viewer", "uploader_a", "surveyor", "official", "admin"])
def test_archive_role_matrix(client, cast, actor) -> None:
    record, _ = listed(
        client, cast, f"150602-032{[None, 'viewer', 'uploader_a', 'surveyor', 'official', 'admin'].index(actor)}"
    )
    headers = cast.headers(actor)
    filed = _file(client, headers, record["id"], "features", "photo", "a.jpg", b"jpg")
    assert filed.status_code == {None: 401, "surveyor": 201, "admin": 201}.get(actor, 403)
    item = _file(client, cast.headers("surveyor"), record["id"], "features", "photo", "b.jpg", b"jpg").json()
    read = 401 if actor is None else 200
    assert client.get(f"{ITEMS}/{item['id']}", headers=headers).status_code == read
    assert client.get(f"{ITEMS}/{item['id']}/file", headers=headers).status_code == read
    assert client.get(f"{BUILDINGS}/{record['id']}/items", headers=headers).status_code == read
    assert client.get(f"{BUILDINGS}/{record['id']}/package", headers=headers).status_code == read
    assert client.get("/api/v1/heritage/completeness", headers=headers).status_code == read
    recheck = client.post(f"{ITEMS}/{item['id']}/qa", headers=headers, json={"to": "re_check"})
    assert recheck.status_code == {None: 401, "surveyor": 409, "official": 200, "admin": 200}.get(actor, 403)
    retire = client.post(f"{ITEMS}/{item['id']}/retire", headers=headers, json={"reason": "test"})
    assert retire.status_code == {None: 401, "surveyor": 200, "official": 200, "admin": 200}.get(actor, 403)


def test_point_cloud_item_converts_to_a_linked_dataset(client, cast, start_worker) -> None:
    from tests.support.http_api import wait_job

    surveyor = cast.headers("surveyor")
    record, _ = listed(client, cast, "150602-0330")
    scan = Path(__file__).resolve().parents[2] / "sample_models" / "survey" / "kangbashi_scan.laz"
    not_convertible = _file(client, surveyor, record["id"], "features", "photo", "a.jpg", b"x", convert="true")
    assert not_convertible.status_code == 422
    filed = _file(
        client,
        surveyor,
        record["id"],
        "survey",
        "point_cloud",
        scan.name,
        scan.read_bytes(),
        convert="true",
        plane_datum="EPSG:4546",
    )
    assert filed.status_code == 201, filed.text
    item = filed.json()
    assert item["dataset_id"] is not None and item["sha256"] == hashlib.sha256(scan.read_bytes()).hexdigest()
    dataset = client.get(f"/api/v1/datasets/{item['dataset_id']}", headers=surveyor).json()
    assert dataset["kind"] == "pointcloud" and dataset["district"] == "150602"
    revisions = client.get(f"/api/v1/datasets/{item['dataset_id']}/revisions", headers=surveyor).json()["revisions"]
    start_worker()
    job = wait_job(client, surveyor, f"/api/v1/jobs/{revisions[0]['job_id']}")
    assert job["state"] == "succeeded", job
    found = client.get(BUILDINGS, headers=cast.headers("viewer"), params={"dataset": item["dataset_id"]}).json()
    assert [b["id"] for b in found["buildings"]] == [record["id"]]
    actions = [
        e["action"] for e in client.get(f"{BUILDINGS}/{record['id']}/history", headers=surveyor).json()["entries"]
    ]
    assert actions[-2:] == ["heritage.item.added", "heritage.item.converted"]

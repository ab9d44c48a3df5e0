"""Facade projects (issue 11): fields, colour check stored with every notation, approval documents
required on historic buildings and in protection zones (heritage records), the status workflow, photos
with originals and EXIF, organisation rights and the audit trail."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from tests.support import heritage
from tests.support.facades import GOOD_COLOURS, PROJECTS, project_body


def _step(client: TestClient, headers: dict[str, str], project_id: str, status: str) -> Any:
    return client.post(f"{PROJECTS}/{project_id}/status", json={"status": status}, headers=headers)


def test_project_colours_workflow_and_rights(client: TestClient, cast: Any) -> None:
    uploader, official = cast.headers("uploader_a"), cast.headers("official")
    answer = client.post(
        PROJECTS,
        json=project_body(
            "P-1",
            2000,
            2000,
            colours=[
                {"hex": "#A0522D", "use": "main", "share": 85},  # 2.3YR 4.3/8.1: chroma > 6
                {"hex": "#0000FF", "use": "accent", "share": 15},  # outside the renotation domain
            ],
        ),
        headers=uploader,
    )
    assert answer.status_code == 201, answer.text
    project = answer.json()
    assert project["status"] == "planned" and project["approval_required"] is False and project["heritage"] == []
    assert project["footprint"]["type"] == "MultiPolygon" and project["signs"]["count"] == 6
    assert project["colour_check"]["outcome"] == "fail"
    rules_hit = {(f["rule"], f["colour"]) for f in project["colour_check"]["findings"]}
    assert ("max_chroma", "#A0522D") in rules_hit and ("max_chroma", "#0000FF") in rules_hit
    assert project["colours"][0]["munsell"]["notation"] == "2.3YR 4.3/8.1" and project["colours"][1]["high_chroma"]

    assert _step(client, uploader, project["id"], "design").status_code == 200
    assert _step(client, uploader, project["id"], "approved").status_code == 403  # officials approve
    refused = _step(client, official, project["id"], "approved")
    assert refused.status_code == 409 and refused.json()["error"] == "colour_rule_failed"
    other = client.patch(
        f"{PROJECTS}/{project['id']}", json={"colours": GOOD_COLOURS}, headers=cast.headers("uploader_b")
    )
    assert other.status_code == 403
    fixed = client.patch(f"{PROJECTS}/{project['id']}", json={"colours": GOOD_COLOURS}, headers=uploader)
    assert fixed.status_code == 200 and fixed.json()["colour_check"]["outcome"] == "pass"
    assert [c["given_as"] for c in fixed.json()["colours"]] == ["hex", "munsell", "lab"]
    assert all(c["hex"] and c["lab"] and c["munsell"]["notation"] for c in fixed.json()["colours"])
    assert _step(client, official, project["id"], "approved").status_code == 200
    for status in ("construction", "completed"):
        assert _step(client, uploader, project["id"], status).status_code == 200
    assert _step(client, uploader, project["id"], "accepted").status_code == 403
    done = _step(client, official, project["id"], "accepted").json()
    assert done["status"] == "accepted" and done["version"] == 7
    assert _step(client, official, project["id"], "planned").json()["error"] == "invalid_transition"
    assert client.get(PROJECTS, params={"colour_outcome": "pass"}, headers=cast.headers("viewer")).json()["total"] == 1
    history = client.get("/api/v1/audit", params={"object_id": project["id"]}, headers=official).json()["entries"]
    actions = [e["action"] for e in history]
    assert actions.count("facades.project.status") == 5 and "facades.project.created" in actions
    dup = client.post(PROJECTS, json=project_body("P-1", 0, 0), headers=uploader)
    assert dup.status_code == 409
    nothing = client.post(PROJECTS, json={**project_body("P-2", 0, 0), "footprint": None}, headers=uploader)
    assert nothing.status_code == 422


def test_historic_building_needs_approval_documents(client: TestClient, cast: Any) -> None:
    record, _ = heritage.listed(client, cast, "HB-1")
    uploader, official = cast.headers("uploader_a"), cast.headers("official")
    on_it = client.post(PROJECTS, json=project_body("P-H", 45, 38), headers=uploader).json()
    assert on_it["approval_required"] is True
    zones = {(h["code"], h["zone"]) for h in on_it["heritage"]}
    assert zones == {("HB-1", "historic_building"), ("HB-1", "protection_range"), ("HB-1", "control_zone")}
    near = client.post(PROJECTS, json=project_body("P-C", 120, 100), headers=uploader).json()
    assert near["approval_required"] and {h["zone"] for h in near["heritage"]} == {"control_zone"}
    far = client.post(PROJECTS, json=project_body("P-F", 400, 400), headers=uploader).json()
    assert not far["approval_required"]
    assert _step(client, uploader, on_it["id"], "design").status_code == 200
    refused = _step(client, official, on_it["id"], "approved")
    assert refused.status_code == 422 and refused.json()["error"] == "approval_documents_required"
    assert "HB-1" in refused.json()["detail"]
    docs = [{"reference": "鄂历建审〔2024〕12号", "issued_on": "2024-03-01", "issuer": "Ordos heritage bureau"}]
    assert (
        client.patch(f"{PROJECTS}/{on_it['id']}", json={"approval_documents": docs}, headers=uploader).status_code
        == 200
    )
    approved = _step(client, official, on_it["id"], "approved")
    assert approved.status_code == 200 and approved.json()["approval_documents"][0]["issued_on"] == "2024-03-01"
    assert record["id"] == on_it["heritage"][0]["building_id"]


def _jpeg(exif: bool) -> bytes:
    image = Image.new("RGB", (64, 48), (200, 180, 150))
    buffer = io.BytesIO()
    if exif:
        data = Image.Exif()
        data.get_ifd(0x8769)[0x9003] = "2024:05:06 10:11:12"
        data.get_ifd(0x8825)[0x0011] = 135.5
        image.save(buffer, "JPEG", exif=data.tobytes())
    else:
        image.save(buffer, "JPEG")
    return buffer.getvalue()


def test_photos_keep_originals_and_exif(client: TestClient, cast: Any) -> None:
    uploader = cast.headers("uploader_a")
    project = client.post(PROJECTS, json=project_body("P-PH", 3000, 0), headers=uploader).json()
    original = _jpeg(exif=True)
    answer = client.post(
        f"{PROJECTS}/{project['id']}/photos",
        files={"file": ("before 前.jpg", original, "image/jpeg")},
        data={"stage": "before", "caption": "示例"},
        headers=uploader,
    )
    assert answer.status_code == 201, answer.text
    photo = answer.json()
    assert photo["sha256"] == hashlib.sha256(original).hexdigest() and photo["bytes"] == len(original)
    assert photo["captured_at"] == "2024-05-06T10:11:12" and photo["direction_deg"] == 135.5
    assert (photo["width"], photo["height"]) == (64, 48)
    plain = client.post(
        f"{PROJECTS}/{project['id']}/photos",
        files={"file": ("after.jpg", _jpeg(exif=False), "image/jpeg")},
        data={"stage": "after"},
        headers=uploader,
    ).json()
    assert plain["captured_at"] is None and plain["direction_deg"] is None
    body = client.get(photo["file_url"], headers=cast.headers("viewer"))
    assert body.status_code == 200 and body.content == original
    listed = client.get(f"{PROJECTS}/{project['id']}/photos", headers=cast.headers("viewer")).json()["items"]
    assert {p["stage"] for p in listed} == {"before", "after"}
    not_image = client.post(
        f"{PROJECTS}/{project['id']}/photos",
        files={"file": ("x.jpg", b"not a photo", "image/jpeg")},
        data={"stage": "progress"},
        headers=uploader,
    )
    assert not_image.status_code == 422
    bad_stage = client.post(
        f"{PROJECTS}/{project['id']}/photos",
        files={"file": ("y.jpg", original, "image/jpeg")},
        data={"stage": "sometime"},
        headers=uploader,
    )
    assert bad_stage.status_code == 422
    other = client.post(
        f"{PROJECTS}/{project['id']}/photos",
        files={"file": ("z.jpg", original, "image/jpeg")},
        data={"stage": "after"},
        headers=cast.headers("uploader_b"),
    )
    assert other.status_code == 403


def test_etag_and_if_match(client: TestClient, cast: Any) -> None:
    uploader = cast.headers("uploader_a")
    created = client.post(PROJECTS, json=project_body("P-E", 5000, 0), headers=uploader)
    first = created.headers["ETag"]
    read = client.get(f"{PROJECTS}/{created.json()['id']}", headers=uploader)
    assert read.headers["ETag"] == first
    changed = client.patch(
        f"{PROJECTS}/{created.json()['id']}", json={"contractor": "示例 B"}, headers={**uploader, "If-Match": first}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != first
    stale = client.patch(
        f"{PROJECTS}/{created.json()['id']}", json={"contractor": "示例 C"}, headers={**uploader, "If-Match": first}
    )
    assert stale.status_code == 412 and stale.json()["error"] == "precondition_failed"
    assert stale.headers["ETag"] == changed.headers["ETag"]
    step = client.post(
        f"{PROJECTS}/{created.json()['id']}/status", json={"status": "design"}, headers={**uploader, "If-Match": first}
    )
    assert step.status_code == 412
    assert client.get(f"{PROJECTS}/{created.json()['id']}", headers=uploader).json()["contractor"] == "示例 B"

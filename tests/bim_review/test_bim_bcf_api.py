"""The BCF REST API 3.0 subset (api/bim_review/bcf_api.py): a BIM tool's round trip (topic, comment,
viewpoint read back with the specification's field names, the camera to 1e-6 m), the same topics as the
portal's routes both ways, the role matrix and bad input."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Any

import ifcopenshell
import numpy as np
import pytest

from tests.support.http_api import upload

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "make_review_models", ROOT / "sample_models" / "bim_review" / "make_review_models.py"
)
assert _spec and _spec.loader
make_review_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_review_models)
BCF = "/bcf/3.0"
BIM = "/api/v1/bim"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    first, _ = make_review_models.make_revisions(tmp_path_factory.mktemp("bcf-api"))
    return first  # type: ignore[no-any-return]


def test_versions_and_auth_are_public(client: Any) -> None:
    [version] = client.get("/bcf/versions").json()["versions"]
    assert version["version_id"] == "3.0" and "BCF-API" in version["detailed_version"]
    assert version["api_base_url"].endswith("/bcf/3.0")
    auth = client.get(f"{BCF}/auth").json()
    assert auth["supported_oauth2_flows"] == [] and auth["http_basic_supported"] is False
    assert auth["oauth2_token_url"] is None and "Bearer" in auth["authorization_header"]


def test_a_bim_tool_round_trip(client: Any, cast: Any, model: Path) -> None:
    owner, official, other = cast.headers("uploader_a"), cast.headers("official"), cast.headers("uploader_b")
    answer = upload(client, owner, model, name="示例 BCF API", district="kangbashi", visibility="internal")
    assert answer.status_code == 202, answer.text
    project_id = answer.json()["revision"]["id"]
    walls = {w.Name: w.GlobalId for w in ifcopenshell.open(str(model)).by_type("IfcWall")}
    partition, wall = walls["Partition"], next(g for n, g in walls.items() if n != "Partition")

    # projects: the owner's organisation and officials see the revision, another institute does not
    project = client.get(f"{BCF}/projects/{project_id}", headers=owner).json()
    assert project["project_id"] == project_id and project["name"].startswith("示例 BCF API")
    assert project["authorization"]["project_actions"] == ["createTopic"]
    assert project_id in [p["project_id"] for p in client.get(f"{BCF}/projects", headers=official).json()]
    assert project_id not in [p["project_id"] for p in client.get(f"{BCF}/projects", headers=other).json()]
    assert client.get(f"{BCF}/projects/{project_id}", headers=other).status_code == 404
    assert client.get(f"{BCF}/projects").status_code == 401

    # a topic with the tool's own GUID
    guid = str(uuid.uuid4())
    body = {
        "guid": guid,
        "title": "隔墙与管道碰撞 / Partition clashes with a duct",
        "topic_type": "Clash",
        "topic_status": "Open",
        "priority": "High",
        "labels": ["MEP"],
        "assigned_to": "uploader_a",
        "due_date": "2026-12-20T00:00:00Z",
        "description": "示例",
        "reference_links": ["https://example.org/ignored"],
    }
    topics_url = f"{BCF}/projects/{project_id}/topics"
    assert client.post(topics_url, json=body, headers=cast.headers("viewer")).status_code == 403
    assert client.post(topics_url, json=body).status_code == 401
    assert client.post(topics_url, json=body, headers=other).status_code == 404
    created = client.post(topics_url, json=body, headers=official)
    assert created.status_code == 201, created.text
    topic = created.json()
    assert created.headers["Location"] == f"{topics_url}/{guid}"
    assert (topic["guid"], topic["topic_type"], topic["topic_status"], topic["priority"]) == (
        guid,
        "Clash",
        "Open",
        "High",
    )
    assert topic["creation_author"] == "official" and topic["creation_date"] and topic["labels"] == ["MEP"]
    assert client.post(topics_url, json=body, headers=official).status_code == 409  # the same GUID again

    # a viewpoint: perspective camera in model coordinates, components by GlobalId
    camera = {
        "camera_view_point": {"x": 5.123456789, "y": -27.000001, "z": 13.5},
        "camera_direction": {"x": 0.0, "y": 0.928476690885259, "z": -0.371390676354104},
        "camera_up_vector": {"x": 0.0, "y": 0.371390676354104, "z": 0.928476690885259},
        "field_of_view": 50.0,
        "aspect_ratio": 1.6,
    }
    view_body = {
        "perspective_camera": camera,
        "components": {
            "selection": [{"ifc_guid": partition}],
            "coloring": [{"color": "#E53935", "components": [{"ifc_guid": partition}, {"ifc_guid": wall}]}],
            "visibility": {"default_visibility": True},
        },
    }
    viewpoints_url = f"{topics_url}/{guid}/viewpoints"
    made = client.post(viewpoints_url, json=view_body, headers=owner)
    assert made.status_code == 201, made.text
    view_guid = made.json()["guid"]
    view = client.get(f"{viewpoints_url}/{view_guid}", headers=owner).json()
    back = view["perspective_camera"]
    for key in ("camera_view_point", "camera_direction", "camera_up_vector"):
        sent, got = camera[key], back[key]
        assert np.linalg.norm(np.subtract([got[a] for a in "xyz"], [sent[a] for a in "xyz"])) < 1e-6, key
    assert (back["field_of_view"], back["aspect_ratio"]) == (50.0, 1.6)
    assert view["components"]["selection"] == [
        {"ifc_guid": partition, "originating_system": None, "authoring_tool_id": None}
    ]
    [coloring] = view["components"]["coloring"]
    assert coloring["color"] == "#E53935" and {c["ifc_guid"] for c in coloring["components"]} == {partition, wall}
    assert [v["guid"] for v in client.get(viewpoints_url, headers=official).json()] == [view_guid]
    assert (
        client.get(f"{viewpoints_url}/{view_guid}/selection", headers=owner).json()["selection"][0]["ifc_guid"]
        == partition
    )
    assert client.get(f"{viewpoints_url}/{view_guid}/coloring", headers=owner).json()["coloring"] == [coloring]

    # a comment on that viewpoint
    comments_url = f"{topics_url}/{guid}/comments"
    said = client.post(comments_url, json={"comment": "请调整隔墙位置", "viewpoint_guid": view_guid}, headers=owner)
    assert said.status_code == 201, said.text
    comment = said.json()
    assert (comment["topic_guid"], comment["viewpoint_guid"], comment["author"]) == (guid, view_guid, "uploader_a")
    assert client.get(f"{comments_url}/{comment['guid']}", headers=official).json() == comment
    assert client.get(comments_url, headers=owner).json() == [comment]
    assert client.get(f"{comments_url}/{uuid.uuid4()}", headers=owner).status_code == 404

    # PUT replaces the topic's fields
    put = client.put(
        f"{topics_url}/{guid}", json={"title": "已修改 / changed", "topic_status": "Resolved"}, headers=owner
    )
    assert put.status_code == 200, put.text
    assert (put.json()["topic_status"], put.json()["topic_type"], put.json()["priority"]) == ("Resolved", "Clash", None)

    # the portal's routes see the same topic, camera and comment
    portal = client.get(f"{BIM}/topics/{guid}", headers=official).json()
    assert portal["status"] == "Resolved" and portal["elements"] == [partition]
    [portal_view] = portal["viewpoints"]
    assert portal_view["id"] == view_guid
    assert np.allclose(portal_view["camera"]["position"], [5.123456789, -27.000001, 13.5], atol=1e-6)
    assert [c["id"] for c in portal["comments"]] == [comment["guid"]]
    # and a topic made in the portal is a BCF topic of the project
    from_portal = client.post(
        f"{BIM}/revisions/{project_id}/topics", json={"title": "门缺少防火等级", "elements": [wall]}, headers=owner
    ).json()
    listed = client.get(topics_url, headers=owner).json()
    assert {t["guid"] for t in listed} == {guid, from_portal["id"]}
    assert client.get(f"{topics_url}/{from_portal['id']}", headers=owner).json()["title"] == "门缺少防火等级"

    # role matrix on a topic: another institute 404, a viewer reads nothing internal and writes nothing
    assert client.get(f"{topics_url}/{guid}", headers=other).status_code == 404
    assert client.get(f"{viewpoints_url}/{view_guid}", headers=other).status_code == 404
    assert client.put(f"{topics_url}/{guid}", json={"title": "x"}, headers=cast.headers("viewer")).status_code == 403
    assert client.post(comments_url, json={"comment": "x"}, headers=cast.headers("viewer")).status_code == 403
    assert client.get(f"{BCF}/projects/{uuid.uuid4()}/topics/{guid}", headers=official).status_code == 404

    # DELETE takes the topic with its comments and viewpoints
    assert client.delete(f"{topics_url}/{from_portal['id']}", headers=owner).status_code == 204
    assert client.get(f"{BIM}/topics/{from_portal['id']}", headers=owner).status_code == 404


def test_bad_input_is_422_with_a_clear_message(client: Any, cast: Any, model: Path) -> None:
    owner = cast.headers("uploader_a")
    project_id = upload(
        client, owner, model, name="示例 BCF API bad input", district="kangbashi", visibility="internal"
    ).json()["revision"]["id"]
    topics_url = f"{BCF}/projects/{project_id}/topics"
    empty = client.post(topics_url, json={"title": ""}, headers=owner)
    assert empty.status_code == 422 and "title" in empty.json()["detail"]
    guid = client.post(topics_url, json={"title": "示例"}, headers=owner).json()["guid"]
    flat = {"x": 0.0, "y": 0.0, "z": 0.0}
    camera = {
        "camera_view_point": flat,
        "camera_direction": flat,
        "camera_up_vector": {"x": 0.0, "y": 0.0, "z": 1.0},
        "field_of_view": 60.0,
    }
    zero = client.post(f"{topics_url}/{guid}/viewpoints", json={"perspective_camera": camera}, headers=owner)
    assert zero.status_code == 422 and "zero vector" in zero.json()["detail"]
    bad_guid = {"components": {"selection": [{"ifc_guid": "not-a-globalid"}]}}
    answer = client.post(f"{topics_url}/{guid}/viewpoints", json=bad_guid, headers=owner)
    assert answer.status_code == 422 and "ifc_guid" in answer.json()["detail"]
    nothing = client.post(f"{topics_url}/{guid}/viewpoints", json={}, headers=owner)
    assert nothing.status_code == 422 and "perspective_camera" in nothing.json()["detail"]
    stray = client.post(
        f"{topics_url}/{guid}/comments", json={"comment": "x", "viewpoint_guid": str(uuid.uuid4())}, headers=owner
    )
    assert stray.status_code == 422 and "viewpoint" in stray.json()["detail"]


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 3


def test_orthogonal_cameras_and_snapshots(client: Any, cast: Any, model: Path) -> None:
    import base64

    owner, official = cast.headers("uploader_a"), cast.headers("official")
    project_id = upload(
        client, owner, model, name="示例 BCF API orthogonal", district="kangbashi", visibility="internal"
    ).json()["revision"]["id"]
    topics_url = f"{BCF}/projects/{project_id}/topics"
    guid = client.post(topics_url, json={"title": "平面图 / plan"}, headers=owner).json()["guid"]
    viewpoints_url = f"{topics_url}/{guid}/viewpoints"
    camera = {
        "camera_view_point": {"x": 12.345678, "y": -3.25, "z": 60.0},
        "camera_direction": {"x": 0.0, "y": 0.0, "z": -1.0},
        "camera_up_vector": {"x": 0.0, "y": 1.0, "z": 0.0},
        "view_to_world_scale": 37.5,
        "aspect_ratio": 1.78,
    }
    body = {
        "orthogonal_camera": camera,
        "snapshot": {"snapshot_type": "jpg", "snapshot_data": base64.b64encode(JPEG).decode()},
    }
    made = client.post(viewpoints_url, json=body, headers=owner)
    assert made.status_code == 201, made.text
    view = client.get(f"{viewpoints_url}/{made.json()['guid']}", headers=official).json()
    assert view["perspective_camera"] is None and view["snapshot"] == {"snapshot_type": "jpg"}
    back = view["orthogonal_camera"]
    for key in ("camera_view_point", "camera_direction", "camera_up_vector"):
        assert np.linalg.norm(np.subtract([back[key][a] for a in "xyz"], [camera[key][a] for a in "xyz"])) < 0.01, key  # type: ignore[index]
    assert (back["view_to_world_scale"], back["aspect_ratio"]) == (37.5, 1.78)
    image = client.get(f"{viewpoints_url}/{view['guid']}/snapshot", headers=owner)
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg" and image.content == JPEG
    assert (
        client.get(f"{viewpoints_url}/{view['guid']}/snapshot", headers=cast.headers("uploader_b")).status_code == 404
    )
    # a data URL is read as its base64 part; a viewpoint without a snapshot answers 404 for its image
    as_url = {
        "orthogonal_camera": camera,
        "snapshot": {
            "snapshot_type": "png",
            "snapshot_data": "data:image/png;base64," + base64.b64encode(PNG).decode(),
        },
    }
    plain = client.post(viewpoints_url, json=as_url, headers=owner)
    assert plain.status_code == 201, plain.text
    assert client.get(f"{viewpoints_url}/{plain.json()['guid']}/snapshot", headers=owner).content == PNG
    no_image = client.post(viewpoints_url, json={"orthogonal_camera": camera}, headers=owner).json()["guid"]
    missing = client.get(f"{viewpoints_url}/{no_image}/snapshot", headers=owner)
    assert missing.status_code == 404 and "no snapshot" in missing.json()["detail"]
    # the portal's routes see the orthogonal camera and the snapshot's type
    portal = client.get(f"{BIM}/topics/{guid}", headers=owner).json()
    first = next(v for v in portal["viewpoints"] if v["id"] == view["guid"])
    assert first["camera"]["view_to_world_scale"] == 37.5 and first["snapshot_type"] == "jpg"


def test_bad_snapshots_and_cameras_are_4xx(client: Any, cast: Any, model: Path) -> None:
    import base64

    owner = cast.headers("uploader_a")
    project_id = upload(
        client, owner, model, name="示例 BCF API bad snapshot", district="kangbashi", visibility="internal"
    ).json()["revision"]["id"]
    topics_url = f"{BCF}/projects/{project_id}/topics"
    guid = client.post(topics_url, json={"title": "示例"}, headers=owner).json()["guid"]
    url = f"{topics_url}/{guid}/viewpoints"

    point = {"x": 0.0, "y": 0.0, "z": 10.0}
    down, north = {"x": 0.0, "y": 0.0, "z": -1.0}, {"x": 0.0, "y": 1.0, "z": 0.0}
    ortho = {"camera_view_point": point, "camera_direction": down, "camera_up_vector": north, "view_to_world_scale": 0}

    def snap(kind: str, data: bytes | str) -> dict[str, Any]:
        text = data if isinstance(data, str) else base64.b64encode(data).decode()
        camera = {**ortho, "view_to_world_scale": 20.0}
        return {"orthogonal_camera": camera, "snapshot": {"snapshot_type": kind, "snapshot_data": text}}

    without_camera = client.post(url, json={"snapshot": snap("png", PNG)["snapshot"]}, headers=owner)
    assert without_camera.status_code == 422 and "orthogonal_camera" in without_camera.json()["detail"]

    html = client.post(url, json=snap("png", b"<html>no image</html>"), headers=owner)
    assert html.status_code == 422 and "neither a PNG nor a JPEG" in html.json()["detail"]
    mislabelled = client.post(url, json=snap("png", JPEG), headers=owner)
    assert mislabelled.status_code == 422 and "says png but the image is a JPG" in mislabelled.json()["detail"]
    garbage = client.post(url, json=snap("png", "%%% not base64 %%%"), headers=owner)
    assert garbage.status_code == 422 and "not base64" in garbage.json()["detail"]
    gif = client.post(url, json=snap("gif", b"GIF89a"), headers=owner)
    assert gif.status_code == 422 and "snapshot_type" in gif.json()["detail"]
    huge = client.post(url, json=snap("png", PNG + bytes(5 * 1024 * 1024)), headers=owner)
    assert huge.status_code == 413 and "at most 5120 KiB" in huge.json()["detail"]
    flat = client.post(url, json={"orthogonal_camera": ortho}, headers=owner)
    assert flat.status_code == 422 and "view_to_world_scale" in flat.json()["detail"]
    perspective = {"camera_view_point": point, "camera_direction": down, "camera_up_vector": north, "field_of_view": 60}
    both = client.post(
        url,
        json={"perspective_camera": perspective, "orthogonal_camera": {**ortho, "view_to_world_scale": 5}},
        headers=owner,
    )
    assert both.status_code == 422 and "not both" in both.json()["detail"]
    assert client.get(f"{BIM}/topics/{guid}", headers=owner).json()["viewpoints"] == []  # nothing was kept

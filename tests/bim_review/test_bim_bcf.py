"""BCF topics: BCF-XML 3.0/2.1 written and read with bcf-client and checked against buildingSMART's
BCF 3.0 schemas (tests/bim_review/data/bcf_schemas), topics and viewpoints through the API (a camera from the
3D city lands on the same camera after export and re-import), IDS failures as BCF, the role matrix."""

from __future__ import annotations

import importlib.util
import io
import uuid
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xmlschema

from cim_platform.bim_review.bcf_files import Camera, Comment, Topic, Viewpoint, read_bcf, write_bcf
from cim_platform.bim_review.checks import run_check
from cim_platform.bim_review.models import IdsCheck
from cim_platform.bim_review.viewpoints import engineering_frame
from cim_platform.core.db.engine import session_scope
from tests.support.http_api import upload

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).parent / "data" / "bcf_schemas" / "v3.0"
ORDOS_IDS = (ROOT / "sample_models" / "ids" / "ordos-delivery.ids").read_text(encoding="utf-8")
_spec = importlib.util.spec_from_file_location(
    "make_review_models", ROOT / "sample_models" / "bim_review" / "make_review_models.py"
)
assert _spec and _spec.loader
make_review_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_review_models)
BIM = "/api/v1/bim"


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_review_models.make_revisions(tmp_path_factory.mktemp("bim-bcf"))  # type: ignore[no-any-return]


def schema_problems(data: bytes) -> list[str]:
    """Every file of a BCF 3.0 zip checked against its buildingSMART schema."""
    schemas = {kind: xmlschema.XMLSchema(str(SCHEMAS / f"{kind}.xsd")) for kind in ("markup", "visinfo", "version")}
    problems, checked = [], 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            kind = {"markup.bcf": "markup", "bcf.version": "version"}.get(name.rsplit("/", 1)[-1])
            kind = kind or ("visinfo" if name.endswith(".bcfv") else None)
            if kind:
                checked += 1
                problems += [f"{name}: {e.reason}" for e in schemas[kind].iter_errors(archive.read(name).decode())]
    assert checked >= 2
    return problems


def sample_topic() -> Topic:
    view = Viewpoint(
        camera=Camera((1.5, -20.25, 10.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), 55.0, 1.6),
        selected=["0Ptx1qS5v0lPdvfXb$n_kl"],
        coloured={"E53935": ["0Ptx1qS5v0lPdvfXb$n_kl"]},
    )
    return Topic(
        title="墙体缺少 IsExternal / Wall lacks IsExternal",
        author="official",
        created_at=datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
        topic_type="Issue",
        status="Open",
        priority="High",
        assigned_to="uploader_a",
        due_date=datetime(2026, 12, 20, tzinfo=UTC),
        labels=["IDS", "墙"],
        comments=[
            Comment("请补充属性", "official", datetime(2026, 12, 2, 11, 0, tzinfo=UTC), viewpoint_guid=view.guid)
        ],
        viewpoints=[view],
    )


@pytest.mark.parametrize("version", ["3.0", "2.1"])
def test_bcf_files_round_trip(tmp_path: Path, version: str) -> None:
    topic = sample_topic()
    path = write_bcf([topic], tmp_path / "topics.bcf", version=version, project_name="示例")  # type: ignore[arg-type]
    if version == "2.1":  # BCF 2.1 cameras have no aspect ratio
        assert topic.viewpoints[0].camera is not None
        topic.viewpoints[0].camera.aspect_ratio = 1.0
    assert read_bcf(path) == (version, [topic])
    with zipfile.ZipFile(path) as archive:
        assert f'VersionId="{version}"' in archive.read("bcf.version").decode()
    if version == "3.0":
        assert schema_problems(path.read_bytes()) == []


def test_schema_check_catches_an_invalid_file(tmp_path: Path) -> None:
    path = write_bcf([sample_topic()], tmp_path / "topics.bcf")
    broken = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(broken, "w") as target:
        for name in source.namelist():
            text = source.read(name)
            if name.endswith("markup.bcf"):
                text = text.replace(b"<Title>", b"<Titel>").replace(b"</Title>", b"</Titel>")
            target.writestr(name, text)
    assert schema_problems(broken.getvalue())


def globe_camera(revision: Path) -> dict[str, Any]:
    """A camera of the 3D city (ECEF), as Cesium gives it: 30 m south of the partition, 12 m up, looking at it."""
    frame = engineering_frame(revision)
    target, eye = np.array([5.0, 3.0, 1.5]), np.array([5.0, -27.0, 13.5])
    position, aim = frame.to_ecef([eye, target])
    up_point = frame.to_ecef([eye + np.array([0.0, 0.0, 1.0])])[0]
    direction = (aim - position) / np.linalg.norm(aim - position)
    up = up_point - position
    up = up - direction * float(up @ direction)
    return {
        "position": position.tolist(),
        "direction": direction.tolist(),
        "up": (up / np.linalg.norm(up)).tolist(),
        "field_of_view": 50.0,
        "aspect_ratio": 1.5,
    }


def test_topics_viewpoints_and_bcf_round_trip(client: Any, cast: Any, revisions: tuple[Path, Path]) -> None:
    owner, official = cast.headers("uploader_a"), cast.headers("official")
    answer = upload(client, owner, revisions[0], name="示例 review office", district="kangbashi", visibility="internal")
    assert answer.status_code == 202, answer.text
    revision_id = answer.json()["revision"]["id"]
    partition = "0Ptx1qS5v0lPdvfXb$n_kl"
    import ifcopenshell

    partition = next(
        w.GlobalId for w in ifcopenshell.open(str(revisions[0])).by_type("IfcWall") if w.Name == "Partition"
    )
    camera = globe_camera(revisions[0])
    body = {
        "title": "隔墙缺少 Pset_WallCommon",
        "priority": "High",
        "assigned_to": "uploader_a",
        "due_date": "2026-12-20T00:00:00Z",
        "labels": ["IDS", "墙"],
        "viewpoint": {"globe_camera": camera, "selected": [partition], "coloured": {"E53935": [partition]}},
    }
    assert (
        client.post(f"{BIM}/revisions/{revision_id}/topics", json=body, headers=cast.headers("viewer")).status_code
        == 403
    )
    created = client.post(f"{BIM}/revisions/{revision_id}/topics", json=body, headers=official)
    assert created.status_code == 201, created.text
    topic = created.json()
    assert topic["elements"] == [partition] and topic["status"] == "Open" and topic["author"] == "official"
    [view] = topic["viewpoints"]
    assert np.allclose(view["camera"]["position"], [5.0, -27.0, 13.5], atol=0.01)  # model coordinates
    assert np.allclose(view["globe_camera"]["position"], camera["position"], atol=0.01)
    comment = client.post(
        f"{BIM}/topics/{topic['id']}/comments",
        json={"text": "请补充 IsExternal", "viewpoint_id": view["id"]},
        headers=owner,
    )
    assert comment.status_code == 201, comment.text

    # role matrix: the owner's organisation and officials see it, another institute does not
    assert client.get(f"{BIM}/topics/{topic['id']}", headers=cast.headers("uploader_b")).status_code == 404
    assert client.get(f"{BIM}/revisions/{revision_id}/topics", headers=cast.headers("uploader_b")).status_code == 404
    assert [t["id"] for t in client.get(f"{BIM}/revisions/{revision_id}/topics", headers=owner).json()["items"]] == [
        topic["id"]
    ]

    exported = client.get(f"{BIM}/revisions/{revision_id}/bcf", headers=owner)
    assert exported.status_code == 200
    assert schema_problems(exported.content) == []
    legacy = client.get(f"{BIM}/revisions/{revision_id}/bcf", params={"version": "2.1"}, headers=owner)
    assert legacy.status_code == 200 and b'VersionId="2.1"' in zipfile.ZipFile(io.BytesIO(legacy.content)).read(
        "bcf.version"
    )

    # a BIM tool changes the status and sends the file back: the same topic, the same camera
    _, [outside] = read_bcf(_saved(exported.content))
    outside.status = "Resolved"
    back = client.post(
        f"{BIM}/revisions/{revision_id}/bcf",
        content=_bcf_bytes(outside),
        headers={**owner, "Content-Type": "application/octet-stream"},
    )
    assert back.status_code == 200, back.text
    [landed] = back.json()["items"]
    assert landed["id"] == topic["id"] and landed["status"] == "Resolved" and len(landed["comments"]) == 1
    [again] = landed["viewpoints"]
    assert np.linalg.norm(np.subtract(again["camera"]["position"], view["camera"]["position"])) < 0.01
    assert np.linalg.norm(np.subtract(again["globe_camera"]["position"], camera["position"])) < 0.01
    assert np.allclose(again["globe_camera"]["direction"], camera["direction"], atol=1e-6)
    listed = client.get(f"{BIM}/revisions/{revision_id}/topics", headers=official).json()["items"]
    assert len(listed) == 1
    junk = client.post(f"{BIM}/revisions/{revision_id}/bcf", content=b"not a zip", headers=owner)
    assert junk.status_code == 422 and junk.json()["error"] == "bcf_unreadable"


def _saved(data: bytes) -> Path:
    import tempfile

    handle = tempfile.NamedTemporaryFile(suffix=".bcf", delete=False)
    handle.write(data)
    handle.close()
    return Path(handle.name)


def _bcf_bytes(topic: Topic) -> bytes:
    from cim_platform.bim_review.bcf_files import bcf_bytes

    return bcf_bytes([topic], version="3.0", project_name="a BIM tool")


def test_ids_failures_as_bcf_in_one_step(client: Any, cast: Any, revisions: tuple[Path, Path], settings: Any) -> None:
    owner, official = cast.headers("uploader_a"), cast.headers("official")
    assert client.post(f"{BIM}/ids", json={"name": "示例 Ordos", "xml": ORDOS_IDS}, headers=official).status_code == 201
    answer = upload(client, owner, revisions[0], name="示例 review office", district="kangbashi", visibility="internal")
    revision_id = answer.json()["revision"]["id"]
    [queued] = client.post(f"{BIM}/revisions/{revision_id}/checks", headers=owner).json()["items"]
    with session_scope(client.app.state.engine) as session:  # the job's work, run here
        assert run_check(session, settings, uuid.UUID(queued["id"])).state == "failed"
    exported = client.get(f"{BIM}/revisions/{revision_id}/ids-failures.bcf", headers=owner)
    assert exported.status_code == 200, exported.text
    assert schema_problems(exported.content) == []
    _, items = read_bcf(_saved(exported.content))
    assert len(items) == 4  # one topic per failing requirement
    assert all(t.topic_type == "Error" and "IDS" in t.labels and t.viewpoints[0].camera for t in items)
    failing = {g for t in items for g in t.elements}
    listed = client.get(f"{BIM}/revisions/{revision_id}/failing-elements", headers=owner).json()["global_ids"]
    assert failing == set(listed) and len(failing) == 3
    assert (
        client.get(f"{BIM}/revisions/{revision_id}/ids-failures.bcf", headers=cast.headers("uploader_b")).status_code
        == 404
    )
    with session_scope(client.app.state.engine) as session:
        assert session.get(IdsCheck, uuid.UUID(queued["id"])) is not None


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # the magic bytes are what is checked, not a decoder
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 3


@pytest.mark.parametrize("version", ["3.0", "2.1"])
def test_orthogonal_cameras_and_snapshots_in_bcf_files(tmp_path: Path, version: str) -> None:
    topic = sample_topic()
    plan = Viewpoint(
        camera=Camera((10.0, 4.5, 30.0), (0.0, 0.0, -1.0), (0.0, 1.0, 0.0), aspect_ratio=1.5, view_to_world_scale=42.5),
        selected=["0Ptx1qS5v0lPdvfXb$n_kl"],
        snapshot=JPEG,
    )
    topic.viewpoints[0].snapshot = PNG
    topic.viewpoints.append(plan)
    path = write_bcf([topic], tmp_path / "topics.bcf", version=version)  # type: ignore[arg-type]
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert archive.read(f"{topic.guid}/snapshot.png") == PNG
        assert archive.read(f"{topic.guid}/snapshot-{plan.guid}.jpg") == JPEG
        visinfo = archive.read(f"{topic.guid}/{plan.guid}.bcfv").decode()
        assert "<OrthogonalCamera>" in visinfo and "<ViewToWorldScale>42.5</ViewToWorldScale>" in visinfo
    assert len([n for n in names if "snapshot" in n]) == 2
    if version == "2.1":  # BCF 2.1 cameras have no aspect ratio
        for view in topic.viewpoints:
            assert view.camera is not None
            view.camera.aspect_ratio = 1.0
    else:
        assert schema_problems(path.read_bytes()) == []
    _, [back] = read_bcf(path)
    assert back == topic
    assert back.viewpoints[1].camera is not None and back.viewpoints[1].camera.orthogonal


def test_a_snapshot_that_is_no_image_is_left_out_on_import(tmp_path: Path) -> None:
    topic = sample_topic()
    topic.viewpoints[0].snapshot = PNG
    path = write_bcf([topic], tmp_path / "topics.bcf")
    forged = tmp_path / "forged.bcf"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(forged, "w") as target:
        for name in source.namelist():
            target.writestr(name, b"<html>not an image</html>" if name.endswith(".png") else source.read(name))
    _, [back] = read_bcf(forged)
    assert back.viewpoints[0].snapshot is None and back.viewpoints[0].camera == topic.viewpoints[0].camera


def orthogonal_globe_camera(revision: Path) -> dict[str, Any]:
    """A plan view of the 3D city (ECEF): 40 m above the partition looking straight down, 25 m tall."""
    frame = engineering_frame(revision)
    eye, target, north = np.array([5.0, 3.0, 41.5]), np.array([5.0, 3.0, 1.5]), np.array([5.0, 4.0, 41.5])
    position, aim, ahead = frame.to_ecef([eye, target, north])
    direction = (aim - position) / np.linalg.norm(aim - position)
    up = ahead - position
    up = up - direction * float(up @ direction)
    return {
        "position": position.tolist(),
        "direction": direction.tolist(),
        "up": (up / np.linalg.norm(up)).tolist(),
        "aspect_ratio": 1.25,
        "view_to_world_scale": 25.0,
    }


def test_orthogonal_viewpoint_and_snapshot_through_bcf_xml(
    client: Any, cast: Any, revisions: tuple[Path, Path]
) -> None:
    """A plan view made in the 3D city with a snapshot, exported and imported onto the model's next upload:
    the same orthogonal camera within a centimetre in model coordinates, the same image."""
    import base64

    owner = cast.headers("uploader_a")
    first = upload(client, owner, revisions[0], name="示例 plan view", district="kangbashi", visibility="internal")
    revision_id = first.json()["revision"]["id"]
    camera = orthogonal_globe_camera(revisions[0])
    body = {"title": "平面视图 / plan view", "viewpoint": {"globe_camera": camera}}
    created = client.post(f"{BIM}/revisions/{revision_id}/topics", json=body, headers=owner)
    assert created.status_code == 201, created.text
    topic = created.json()
    [view] = topic["viewpoints"]
    assert np.allclose(view["camera"]["position"], [5.0, 3.0, 41.5], atol=0.01)
    # the map projection's grid is not quite straight over 40 m: directions agree to 1e-4 rad
    assert np.allclose(view["camera"]["direction"], [0.0, 0.0, -1.0], atol=1e-4)
    assert np.allclose(view["camera"]["up"], [0.0, 1.0, 0.0], atol=1e-4)
    assert view["camera"]["view_to_world_scale"] == pytest.approx(25.0, abs=0.01)
    assert view["globe_camera"]["view_to_world_scale"] == pytest.approx(25.0, abs=0.01)
    # a snapshot through the BCF REST API on a second viewpoint of the topic
    sent = client.post(
        f"/bcf/3.0/projects/{revision_id}/topics/{topic['id']}/viewpoints",
        json={
            "perspective_camera": {
                "camera_view_point": {"x": 5.0, "y": -27.0, "z": 13.5},
                "camera_direction": {"x": 0.0, "y": 1.0, "z": 0.0},
                "camera_up_vector": {"x": 0.0, "y": 0.0, "z": 1.0},
                "field_of_view": 60.0,
            },
            "snapshot": {"snapshot_type": "png", "snapshot_data": base64.b64encode(PNG).decode()},
        },
        headers=owner,
    )
    assert sent.status_code == 201, sent.text

    exported = client.get(f"{BIM}/revisions/{revision_id}/bcf", headers=owner)
    assert exported.status_code == 200
    assert schema_problems(exported.content) == []
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert archive.read(f"{topic['id']}/snapshot.png") == PNG

    second = upload(client, owner, revisions[1], name="示例 plan view r2", district="kangbashi", visibility="internal")
    other_id = second.json()["revision"]["id"]
    back = client.post(
        f"{BIM}/revisions/{other_id}/bcf",
        content=exported.content,
        headers={**owner, "Content-Type": "application/octet-stream"},
    )
    assert back.status_code == 200, back.text
    [landed] = back.json()["items"]
    views = client.get(f"/bcf/3.0/projects/{landed['revision_id']}/topics/{landed['id']}/viewpoints", headers=owner)
    assert views.status_code == 200, views.text
    [plan] = [v for v in views.json() if v["orthogonal_camera"]]
    [shot] = [v for v in views.json() if v["snapshot"]]
    ortho = plan["orthogonal_camera"]
    for key, expected in (
        ("camera_view_point", view["camera"]["position"]),
        ("camera_direction", view["camera"]["direction"]),
        ("camera_up_vector", view["camera"]["up"]),
    ):
        assert np.linalg.norm(np.subtract([ortho[key][a] for a in "xyz"], expected)) < 0.01, key
    assert ortho["view_to_world_scale"] == pytest.approx(25.0, abs=0.01) and ortho["aspect_ratio"] == 1.25
    assert plan["perspective_camera"] is None and shot["snapshot"] == {"snapshot_type": "png"}
    image = client.get(
        f"/bcf/3.0/projects/{landed['revision_id']}/topics/{landed['id']}/viewpoints/{shot['guid']}/snapshot",
        headers=owner,
    )
    assert image.status_code == 200 and image.headers["content-type"] == "image/png" and image.content == PNG


def test_a_viewpoint_without_camera_is_exported_with_one(client: Any, cast: Any, revisions: tuple[Path, Path]) -> None:
    """BCF 3.0 requires a camera: a viewpoint stored with components only is exported looking at them."""
    import ifcopenshell

    owner = cast.headers("uploader_a")
    answer = upload(client, owner, revisions[0], name="示例 no camera", district="kangbashi", visibility="internal")
    revision_id = answer.json()["revision"]["id"]
    model = ifcopenshell.open(str(revisions[0]))
    partition = next(w for w in model.by_type("IfcWall") if w.Name == "Partition")
    body = {"title": "只有构件 / components only", "viewpoint": {"selected": [partition.GlobalId]}}
    created = client.post(f"{BIM}/revisions/{revision_id}/topics", json=body, headers=owner)
    assert created.status_code == 201, created.text
    assert created.json()["viewpoints"][0]["camera"] is None
    exported = client.get(f"{BIM}/revisions/{revision_id}/bcf", headers=owner)
    assert exported.status_code == 200
    assert schema_problems(exported.content) == []
    _, [topic] = read_bcf(_saved(exported.content))
    camera = topic.viewpoints[0].camera
    assert camera is not None and camera.view_to_world_scale is None
    # from 15 m south-west and 12 m above the element, looking at it
    import ifcopenshell.util.placement
    import ifcopenshell.util.unit

    scale = ifcopenshell.util.unit.calculate_unit_scale(model)
    target = ifcopenshell.util.placement.get_local_placement(partition.ObjectPlacement)[:3, 3] * scale
    assert np.allclose(camera.position, target + np.array([-15.0, -15.0, 12.0]), atol=0.01)
    aim = (target - np.asarray(camera.position)) / np.linalg.norm(target - np.asarray(camera.position))
    assert np.allclose(camera.direction, aim, atol=1e-6)

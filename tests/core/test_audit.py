"""The audit trail: rows in the change's transaction, before/after, request ids, append-only, the route."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select, update

from cim_platform.core.access import Caller, Role
from cim_platform.core.audit import AuditEntry, record_change
from cim_platform.core.db.engine import session_scope
from cim_platform.datasets import service
from cim_platform.datasets.models import DatasetRevision, RevisionState
from tests.support.http_api import upload

TRIANGLE = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n"


@pytest.fixture
def obj_file(tmp_path: Path) -> Path:
    path = tmp_path / "triangle.obj"
    path.write_text(TRIANGLE)
    return path


def _entries(client: Any, reader: str = "admin", **params: Any) -> list[dict[str, Any]]:
    from tests.support.accounts import Cast

    cast: Cast = client.cast
    response = client.get("/api/v1/audit", headers=cast.headers(reader), params=params)
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


@pytest.fixture
def audited(client, cast):
    client.cast = cast
    return client


def _caller(cast: Any, actor: str, role: Role) -> Caller:
    return Caller(user_id=cast.users[actor], username=actor, organization_id=cast.orgs["institute_a"], role=role)


def test_rows_live_and_die_with_the_change(client, cast) -> None:
    engine = client.app.state.engine
    caller = _caller(cast, "uploader_a", Role.uploader)
    # rolled back: neither the dataset nor its audit row remains
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        dataset = service.create_dataset(
            session, caller, name="Abandoned", kind="mesh", district=None, visibility="internal"
        )
        abandoned_id = str(dataset.id)
        inside = select(func.count()).where(AuditEntry.object_id == abandoned_id)
        assert session.scalar(inside) == 1  # visible inside the transaction
        raise RuntimeError("change abandoned")
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).where(AuditEntry.object_id == abandoned_id)) == 0
        assert session.scalar(select(func.count()).where(AuditEntry.object_type == "dataset")) == 0
    # committed: the row is there, with the caller and no request id outside a request
    with session_scope(engine) as session:
        dataset = service.create_dataset(session, caller, name="Kept", kind="mesh", district=None, visibility=None)
        kept_id = str(dataset.id)
        entry = record_change(
            session,
            caller,
            action="dataset.renamed",
            object_type="dataset",
            object_id=kept_id,
            before={"name": "Kept"},
            after={"name": "Kept too", "at": datetime(2026, 1, 1, tzinfo=UTC), "id": uuid.UUID(int=1)},
        )
        assert entry.id is not None
    with session_scope(engine) as session:
        rows = list(session.scalars(select(AuditEntry).where(AuditEntry.object_id == kept_id).order_by(AuditEntry.id)))
    assert [r.action for r in rows] == ["dataset.created", "dataset.renamed"]
    created, renamed = rows
    assert created.object_type == "dataset" and created.object_id == kept_id
    assert created.actor_user_id == cast.users["uploader_a"] and created.actor_username == "uploader_a"
    assert created.before is None and created.request_id is None
    assert created.after is not None
    assert created.after["name"] == "Kept" and created.after["kind"] == "mesh"
    assert created.after["visibility"] == "internal" and created.after["id"] == kept_id
    assert renamed.before == {"name": "Kept"}
    assert renamed.after == {"name": "Kept too", "at": "2026-01-01T00:00:00+00:00", "id": str(uuid.UUID(int=1))}


def test_upload_and_publish_are_audited_with_the_request_id(audited, cast, obj_file: Path) -> None:
    client = audited
    headers = cast.headers("uploader_a")
    response = upload(
        client, {**headers, "X-Request-ID": "upload-42"}, obj_file, name="Stele", visibility="public", kind="mesh"
    )
    assert response.status_code == 202, response.text
    assert response.headers["x-request-id"] == "upload-42"
    body = response.json()
    dataset_id, first_revision = body["dataset"]["id"], body["revision"]["id"]
    # an unusable client id is replaced by a fresh one, echoed all the same
    second = client.post(
        f"/api/v1/datasets/{dataset_id}/revisions",
        headers={**headers, "X-Request-ID": "no spaces allowed; " + "x" * 200},
        files={"file": (obj_file.name, obj_file.read_bytes())},
    )
    assert second.status_code == 202, second.text
    second_request_id = second.headers["x-request-id"]
    assert second_request_id and " " not in second_request_id
    second_revision = second.json()["revision"]["id"]

    created = _entries(client, object_type="dataset", object_id=dataset_id)
    assert [e["action"] for e in created] == ["dataset.created"]
    assert created[0]["request_id"] == "upload-42" and created[0]["actor_username"] == "uploader_a"
    assert created[0]["actor_token_id"] is not None and created[0]["before"] is None
    assert created[0]["after"]["name"] == "Stele" and created[0]["after"]["visibility"] == "public"
    revisions = _entries(client, object_type="dataset_revision")
    by_id = {e["object_id"]: e for e in revisions}
    assert by_id[first_revision]["request_id"] == "upload-42"
    assert by_id[first_revision]["after"]["number"] == 1 and by_id[first_revision]["after"]["state"] == "pending"
    assert by_id[first_revision]["after"]["source_filename"] == "triangle.obj"
    assert by_id[second_revision]["request_id"] == second_request_id
    assert by_id[second_revision]["after"]["number"] == 2

    # both revisions converted (marked ready here; the conversion itself is tested elsewhere)
    with session_scope(client.app.state.engine) as session:
        session.execute(
            update(DatasetRevision)
            .where(DatasetRevision.dataset_id == uuid.UUID(dataset_id))
            .values(state=RevisionState.ready.value)
        )
    base = f"/api/v1/datasets/{dataset_id}/revisions"
    published = client.post(f"{base}/{second_revision}/publish", headers={**headers, "X-Request-ID": "publish-2"})
    assert published.status_code == 200, published.text
    rolled = client.post(f"{base}/{first_revision}/publish", headers={**headers, "X-Request-ID": "rollback-1"})
    assert rolled.status_code == 200, rolled.text
    history = _entries(client, object_type="dataset", object_id=dataset_id)
    assert [e["action"] for e in history] == ["revision.rolled_back", "revision.published", "dataset.created"]
    rollback, publish = history[0], history[1]
    assert publish["request_id"] == "publish-2" and rollback["request_id"] == "rollback-1"
    assert publish["before"] == {
        "published_revision_id": None,
        "published_revision_number": None,
        "publication": "auto",
    }
    assert publish["after"] == {
        "published_revision_id": second_revision,
        "published_revision_number": 2,
        "publication": "auto",
    }
    assert rollback["before"] == publish["after"]
    assert rollback["after"] == {
        "published_revision_id": first_revision,
        "published_revision_number": 1,
        "publication": "pinned",
    }
    assert rollback["actor_user_id"] == str(cast.users["uploader_a"])


def test_database_refuses_update_delete_truncate(client, cast, database_url: str) -> None:
    with session_scope(client.app.state.engine) as session:
        record_change(
            session,
            _caller(cast, "admin", Role.admin),
            action="thing.changed",
            object_type="thing",
            object_id="1",
            before={"a": 1},
            after={"a": 2},
        )
    statements = [
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ]
    for statement in statements:
        with psycopg.connect(database_url) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT count(*), min(action) FROM audit_log WHERE object_type = 'thing'").fetchone()
        assert row == (1, "thing.changed")
    # and no route writes to it
    audit_paths = {path: ops for path, ops in client.get("/openapi.json").json()["paths"].items() if "audit" in path}
    assert audit_paths == {"/api/v1/audit": audit_paths["/api/v1/audit"]} and set(audit_paths["/api/v1/audit"]) == {
        "get"
    }
    for method in ("post", "put", "patch", "delete"):
        assert client.request(method, "/api/v1/audit", headers=cast.headers("admin")).status_code == 405


@pytest.mark.parametrize(
    ("actor", "status"),
    [("admin", 200), ("official", 200), ("uploader_a", 403), ("viewer", 403), ("surveyor", 403), (None, 401)],
)
def test_route_access(client, cast, actor: str | None, status: int) -> None:
    assert client.get("/api/v1/audit", headers=cast.headers(actor)).status_code == status


def test_filters_and_order(audited, cast) -> None:
    client = audited
    engine = client.app.state.engine
    admin = _caller(cast, "admin", Role.admin)
    official = Caller(
        user_id=cast.users["official"], username="official", organization_id=cast.orgs["bureau"], role=Role.official
    )
    t0 = (datetime.now(UTC) - timedelta(milliseconds=1)).isoformat()  # after the cast's own audit rows
    for number, (caller, object_id) in enumerate([(admin, "a"), (official, "a"), (admin, "b"), (official, "c")]):
        with session_scope(engine) as session:
            record_change(
                session,
                caller,
                action=f"thing.step{number}",
                object_type="thing" if object_id != "c" else "other",
                object_id=object_id,
                before=None,
                after={"step": number},
            )
    everything = _entries(client, since=t0)
    assert [e["action"] for e in everything] == ["thing.step3", "thing.step2", "thing.step1", "thing.step0"]
    assert set(everything[0]) == {
        "id",
        "at",
        "actor_user_id",
        "actor_username",
        "actor_token_id",
        "action",
        "object_type",
        "object_id",
        "before",
        "after",
        "request_id",
    }
    assert [e["action"] for e in _entries(client, object_type="thing", object_id="a")] == [
        "thing.step1",
        "thing.step0",
    ]
    assert [e["action"] for e in _entries(client, object_type="other")] == ["thing.step3"]
    assert [e["action"] for e in _entries(client, actor="official", since=t0)] == ["thing.step3", "thing.step1"]
    by_id = _entries(client, actor=str(cast.users["admin"]), since=t0)
    assert [e["action"] for e in by_id] == ["thing.step2", "thing.step0"]
    assert [e["action"] for e in _entries(client, limit=2)] == ["thing.step3", "thing.step2"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert _entries(client, since=future) == []
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert len(_entries(client, actor="official", since=past)) == 2
    assert client.get("/api/v1/audit", headers=cast.headers("admin"), params={"limit": 0}).status_code == 422
    nul = client.get("/api/v1/audit", headers=cast.headers("admin"), params={"actor": "a\x00b"})
    assert nul.status_code in (400, 422), nul.text  # refused, never a database error

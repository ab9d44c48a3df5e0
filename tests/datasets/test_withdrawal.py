"""Withdrawing a revision (issue 18): owners and admins take a revision back; its pinned URLs answer
410 Gone on every path (routes, fast path, HEAD, 304s, behind nginx) and no cache brings it back."""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from cim_platform.core.audit import AuditEntry
from cim_platform.core.db.engine import session_scope
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import DatasetRevision
from tests.datasets.test_nginx_front import NGINX, running_nginx
from tests.support.stored_datasets import StoredRevision, add_dataset
from tests.support.waiting import wait_for

SHARED = b"glTF synthetic example: the same bytes in every revision" + bytes(64)


@dataclass
class Synthetic:
    dataset_id: uuid.UUID
    revisions: list[uuid.UUID]  # numbers 1..n; the last one is published
    own: list[str]  # SHA-256 of each revision's own content

    def url(self, index: int, path: str = "own.glb") -> str:
        return f"/tiles/{self.dataset_id}/r/{self.revisions[index]}/{path}"

    def withdraw(self, index: int) -> str:
        return f"/api/v1/datasets/{self.dataset_id}/revisions/{self.revisions[index]}/withdraw"


def _dataset(cast, org: str, visibility: str, count: int = 3) -> Synthetic:  # type: ignore[no-untyped-def]
    """A dataset with ``count`` ready revisions stored as a converter would (synthetic example contents)."""
    tileset = json.dumps(
        {
            "asset": {"version": "1.1"},
            "geometricError": 10,
            "root": {"boundingVolume": {"sphere": [0, 0, 0, 10]}, "geometricError": 0, "content": {"uri": "own.glb"}},
        }
    ).encode()
    owns = [b"glTF synthetic example" + os.urandom(2048) for _ in range(count)]
    stored = [
        StoredRevision(
            contents={
                "tileset.json": ("application/json", tileset),
                "own.glb": ("model/gltf-binary", own),
                "shared.glb": ("model/gltf-binary", SHARED),
            },
            source_filename=f"example-{number}.obj",
            source_path=f"uploads/example-{number}.obj",
            source_sha256="0" * 64,
        )
        for number, own in enumerate(owns, start=1)
    ]
    name = "示例 withdrawal (synthetic example)"
    dataset_id, revisions = add_dataset(
        cast.engine, cast.orgs[org], stored, name=name, kind="mesh", visibility=visibility
    )
    return Synthetic(dataset_id, revisions, [hashlib.sha256(own).hexdigest() for own in owns])


def _get(base: str, path: str, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.get(base + path, timeout=30, **kwargs)


def test_withdrawal_roles_conflicts_and_410_on_every_path(settings: Settings, cast, live_server: str) -> None:  # type: ignore[no-untyped-def]
    public = _dataset(cast, "survey", "public")
    internal = _dataset(cast, "survey", "internal", count=2)
    owner = cast.headers("surveyor")
    reason = {"reason": "坐标错误 (wrong coordinates)"}

    def post(path: str, actor: str | None, body: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(live_server + path, headers=cast.headers(actor) if actor else {}, json=body or reason)

    # served (and cached by the fast path) before
    for _ in range(2):
        assert _get(live_server, public.url(0)).status_code == 200
        assert _get(live_server, internal.url(0), headers=owner).status_code == 200
    etag = _get(live_server, public.url(0)).headers["etag"]

    # the role matrix
    assert post(public.withdraw(0), None).status_code == 401
    for actor in ("viewer", "official", "uploader_b"):  # no write scope, or another organisation's dataset
        assert post(public.withdraw(0), actor).status_code == 403, actor
    assert post(internal.withdraw(0), "uploader_b").status_code == 404  # never reveal another's internal data
    assert post(public.withdraw(0), "surveyor", {"reason": "  "}).status_code == 422
    refused = post(public.withdraw(2), "surveyor")  # the published one
    assert refused.status_code == 409 and "publish another revision first" in refused.json()["detail"]
    done = post(public.withdraw(0), "surveyor")
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["state"] == "withdrawn" and body["tileset_url"] is None
    assert body["withdrawal"]["reason"] == reason["reason"] and body["withdrawal"]["by"] == str(cast.users["surveyor"])
    assert post(public.withdraw(0), "surveyor").status_code == 409  # already withdrawn
    assert post(public.withdraw(1), "admin").status_code == 200  # an admin may withdraw any organisation's
    assert post(internal.withdraw(0), "surveyor").status_code == 200
    listed = httpx.get(f"{live_server}/api/v1/datasets/{public.dataset_id}/revisions").json()["revisions"]
    assert [r["state"] for r in listed] == ["withdrawn", "withdrawn", "ready"]
    # a withdrawn revision cannot be published again
    assert (
        post(f"/api/v1/datasets/{public.dataset_id}/revisions/{public.revisions[0]}/publish", "surveyor").status_code
        == 409
    )

    # the audit trail says who, when and why
    with session_scope(cast.engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "revision.withdrawn").order_by(AuditEntry.id)
        ).all()
        assert [(e.object_id, e.actor_username, e.after["reason"]) for e in entries] == [  # type: ignore[index]
            (str(public.revisions[0]), "surveyor", reason["reason"]),
            (str(public.revisions[1]), "admin", reason["reason"]),
            (str(internal.revisions[0]), "surveyor", reason["reason"]),
        ]
        assert session.get(DatasetRevision, public.revisions[0]).withdrawn_by == cast.users["surveyor"]  # type: ignore[union-attr]

    # 410 on every path, at once in the process that withdrew it, and kept over the caches' refreshes
    deadline = time.monotonic() + settings.tile_access_ttl_s * 1.5
    while time.monotonic() < deadline:
        for path in (public.url(0), public.url(0, "tileset.json"), public.url(0, "shared.glb"), public.url(1)):
            gone = _get(live_server, path)
            assert gone.status_code == 410, (path, gone.status_code)
            assert gone.json()["error"] == "revision_withdrawn" and "no longer served" in gone.json()["detail"]
        assert _get(live_server, public.url(0), headers={"If-None-Match": etag}).status_code == 410
        assert httpx.head(live_server + public.url(0)).status_code == 410
        assert _get(live_server, public.url(0), params={"access_token": cast.tokens["surveyor"]}).status_code == 410
        assert _get(live_server, internal.url(0), headers=owner).status_code == 410
        assert _get(live_server, internal.url(0), headers=cast.headers("uploader_b")).status_code == 404
        assert _get(live_server, internal.url(0)).status_code == 404
        # the published revision and the dataset's tileset are served as before
        assert _get(live_server, public.url(2)).status_code == 200
        assert _get(live_server, public.url(2, "shared.glb")).content == SHARED
        assert _get(live_server, f"/tiles/{public.dataset_id}/tileset.json").status_code == 200


@pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx-light is not installed (scripts/bootstrap.sh)")
def test_withdrawn_revision_gone_behind_nginx(settings: Settings, cast, live_server: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    public = _dataset(cast, "survey", "public", count=2)
    owner = cast.headers("surveyor")
    cache_dir = settings.resolved_data_dir / "tile-cache"
    shared_sha = hashlib.sha256(SHARED).hexdigest()
    with running_nginx(settings, live_server, tmp_path / "nginx") as front:
        for _ in range(2):  # anonymous: nginx's few-seconds copy; with a token: X-Accel-Redirect from the disk cache
            assert _get(front, public.url(0)).status_code == 200
            for path in (public.url(0), public.url(0, "shared.glb")):
                assert _get(front, path, headers=owner).status_code == 200
        own_file = cache_dir / public.own[0][:2] / public.own[0][2:4] / public.own[0]
        shared_file = cache_dir / shared_sha[:2] / shared_sha[2:4] / shared_sha
        assert own_file.exists() and shared_file.exists()

        done = httpx.post(front + public.withdraw(0), headers=owner, json={"reason": "示例 wrong model"})
        assert done.status_code == 200, done.text
        # authorised requests: refused by the platform at once; the files no other revision shares are dropped
        for headers in (owner, {**owner, "If-None-Match": f'"{public.own[0]}"'}):
            gone = _get(front, public.url(0), headers=headers)
            assert gone.status_code == 410 and gone.json()["error"] == "revision_withdrawn"
            assert "x-accel-redirect" not in gone.headers
        assert not own_file.exists() and shared_file.exists()
        assert _get(front, public.url(0, "shared.glb"), headers=owner).status_code == 410
        assert _get(front, public.url(1, "shared.glb"), headers=owner).content == SHARED
        # anonymous: nginx's copy lasts at most CIM_TILE_ACCESS_TTL_S, then 410 and never the bytes again
        wait_for(lambda: _get(front, public.url(0)).status_code == 410, timeout=2 * settings.tile_access_ttl_s + 2)
        deadline = time.monotonic() + settings.tile_access_ttl_s * 1.5
        while time.monotonic() < deadline:
            assert _get(front, public.url(0)).status_code == 410
            assert _get(front, public.url(0), headers=owner).status_code == 410
        assert _get(front, public.url(1)).status_code == 200

"""The public tree nginx sends anonymous contents from (issue 17): it holds a content only while its
dataset is public and its revision served, whatever changes that and whenever (a fill racing with a
visibility change included); the served tileset.json names each content's SHA-256."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import delete

from cim_platform.core.access import ANONYMOUS
from cim_platform.core.db.engine import session_scope
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import Dataset, DatasetRevision, TileContent
from cim_platform.datasets.public_tree import PublicTree, safe_relative
from cim_platform.datasets.streaming import TileStreamer, pin_uris
from tests.support.stored_datasets import store_dataset

GLB = b"glTF" + bytes(range(256)) * 4
ODD = b"not what its name says"


def _dataset(cast) -> tuple[uuid.UUID, uuid.UUID]:  # type: ignore[no-untyped-def]
    return store_dataset(
        cast,
        "Tree",
        {
            "tiles/0/a b.glb": ("model/gltf-binary", GLB),
            "tiles/sub.json": ("application/json", b"{}"),
            "tiles/odd.bin": ("model/gltf-binary", ODD),  # stored with another type than its name gives
        },
    )


def _set(cast, dataset_id: uuid.UUID, **values: str) -> None:  # type: ignore[no-untyped-def]
    with session_scope(cast.engine) as session:
        dataset = session.get(Dataset, dataset_id)
        assert dataset is not None
        for name, value in values.items():
            setattr(dataset, name, value)


def test_public_tree_follows_visibility_and_withdrawal(settings: Settings, cast) -> None:  # type: ignore[no-untyped-def]
    dataset_id, revision_id = _dataset(cast)
    # the background sweep (every CIM_TILE_ACCESS_TTL_S) is tested through nginx; here each sweep is the test's
    streamer = TileStreamer(cast.engine, settings.model_copy(update={"tile_access_ttl_s": 3600.0}))
    tree = streamer.public_tree
    glb = streamer.fetch(ANONYMOUS, dataset_id, revision_id, "tiles/0/a b.glb")
    sha = hashlib.sha256(GLB).hexdigest()
    target = tree.root / str(dataset_id) / str(revision_id) / sha / "tiles/0/a b.glb"

    assert streamer.share_public(dataset_id, glb) and target.read_bytes() == GLB
    assert target.stat().st_ino == streamer.file(glb).stat().st_ino  # a hard link to the on-disk cache
    assert streamer.share_public(dataset_id, glb)  # again: nothing changes
    for path in ("tiles/sub.json", "tiles/odd.bin"):  # JSON is gzipped by the platform; nginx types by name
        assert not streamer.share_public(dataset_id, streamer.fetch(ANONYMOUS, dataset_id, revision_id, path))
    assert [p.name for p in target.parent.iterdir()] == ["a b.glb"]  # no temporary link left
    assert tree.sweep() == 0 and target.exists()

    # made internal between the access check and the fill: the fill sees it and leaves nothing
    _set(cast, dataset_id, visibility="internal")
    target.unlink()
    assert not streamer.share_public(dataset_id, glb) and not target.exists()
    # made internal after the fill: the sweep removes it
    _set(cast, dataset_id, visibility="public")
    assert streamer.share_public(dataset_id, glb)
    _set(cast, dataset_id, visibility="internal")
    assert tree.sweep() == 1 and not target.exists()
    # a withdrawn revision, then a deleted dataset
    _set(cast, dataset_id, visibility="public")
    assert streamer.share_public(dataset_id, glb)
    with session_scope(cast.engine) as session:
        revision = session.get(DatasetRevision, revision_id)
        assert revision is not None
        revision.state = "withdrawn"
    assert tree.sweep() == 1 and not target.exists()
    with session_scope(cast.engine) as session:
        revision = session.get(DatasetRevision, revision_id)
        assert revision is not None
        revision.state = "ready"
    assert streamer.share_public(dataset_id, glb)
    with session_scope(cast.engine) as session:
        session.execute(delete(TileContent).where(TileContent.revision_id == revision_id))
        dataset = session.get(Dataset, dataset_id)
        assert dataset is not None
        dataset.published_revision_id = None
        session.flush()
        session.execute(delete(DatasetRevision).where(DatasetRevision.id == revision_id))
        session.execute(delete(Dataset).where(Dataset.id == dataset_id))
    assert tree.sweep() == 1 and not target.exists()


def test_paths_that_could_leave_the_tree_are_refused() -> None:
    for bad in ("", "/etc/passwd", "../x.glb", "a/../../x.glb", "a//b.glb", "./a.glb", "a\\..\\b.glb", "a\x00.glb"):
        assert safe_relative(bad) is None, bad
    assert str(safe_relative("tiles/0/a b.glb")) == "tiles/0/a b.glb"


def test_pinned_tileset_names_each_contents_sha256() -> None:
    tileset = {
        "asset": {"version": "1.1"},
        "root": {
            "content": {"uri": "./root.glb"},
            "children": [
                {"contents": [{"uri": "tiles/a.glb"}, {"uri": "tiles/b.glb?x=1"}]},
                {"content": {"uri": "external/tileset.json"}},
            ],
        },
    }
    pinned = pin_uris(tileset, "r/R/", {"root.glb": "1" * 64, "tiles/a.glb": "2" * 64, "tiles/b.glb": "3" * 64})
    root = pinned["root"]
    assert root["content"]["uri"] == "r/R/./root.glb?v=" + "1" * 64
    contents = [c["uri"] for c in root["children"][0]["contents"]]
    assert contents == ["r/R/tiles/a.glb?v=" + "2" * 64, "r/R/tiles/b.glb?x=1"]
    assert root["children"][1]["content"]["uri"] == "r/R/external/tileset.json"  # not listed: no digest
    assert tileset["root"]["content"]["uri"] == "./root.glb"  # the stored document is left as it was


def test_a_fill_the_database_cannot_confirm_leaves_nothing(tmp_path: Path) -> None:
    """The check after linking fails closed: if the database cannot say (it is away), the link goes."""

    def database_away(dataset_ids: Iterable[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
        raise ConnectionError("the database is away")

    source = tmp_path / "content"
    source.write_bytes(GLB)
    tree = PublicTree(tmp_path / "public", database_away, 3600.0)
    dataset_id, revision_id, sha = uuid.uuid4(), uuid.uuid4(), hashlib.sha256(GLB).hexdigest()
    with pytest.raises(ConnectionError):
        tree.share(dataset_id, revision_id, sha, "tiles/a.glb", source)
    assert not (tmp_path / "public" / str(dataset_id) / str(revision_id)).exists()
    assert source.read_bytes() == GLB  # the on-disk cache's file is untouched

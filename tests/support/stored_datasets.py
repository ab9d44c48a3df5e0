"""A dataset with one published, ready revision whose contents are stored as a converter would, without
running a conversion: for tests of what reads the stored contents (streaming, caches, nginx's tree)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from cim_platform.core.db.engine import session_scope
from cim_platform.datasets.models import Dataset, DatasetRevision, TileContent


def store_dataset(
    cast: Any, name: str, contents: dict[str, tuple[str, bytes]], *, visibility: str = "public", org: str = "survey"
) -> tuple[uuid.UUID, uuid.UUID]:
    """The ids of a new dataset and its published revision holding ``contents`` (path → media type, bytes)."""
    with session_scope(cast.engine) as session:
        dataset = Dataset(organization_id=cast.orgs[org], name=name, kind="footprints", visibility=visibility)
        session.add(dataset)
        session.flush()
        revision = DatasetRevision(
            dataset_id=dataset.id,
            number=1,
            state="ready",
            source_filename="example.geojson",
            source_path="uploads/example.geojson",
            source_bytes=1,
            source_sha256="0" * 64,
        )
        session.add(revision)
        session.flush()
        dataset.published_revision_id = revision.id
        for path, (media_type, data) in contents.items():
            sha256 = hashlib.sha256(data).hexdigest()
            session.add(
                TileContent(
                    revision_id=revision.id, path=path, media_type=media_type, data=data, size=len(data), sha256=sha256
                )
            )
        return dataset.id, revision.id

"""Datasets stored as a conversion leaves them, without running one: revisions with their state, footprint
and contents. Publishing one sets ``published_revision_id`` and the dataset's ``footprint`` as
``cim_platform.datasets.publishing`` does, and nothing else (no publication record, dates or audit entry,
no check of the state: a test may publish a failed revision on purpose). For tests of what reads stored
datasets (streaming, caches, nginx's tree, coverage, heritage checks)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from cim_platform.core.db.engine import session_scope
from cim_platform.datasets.models import Dataset, DatasetRevision, TileContent


@dataclass(frozen=True)
class StoredRevision:
    """One revision of a stored dataset. The source fields are placeholders unless given."""

    state: str = "ready"
    footprint: BaseGeometry | None = None  # EPSG:4326 polygon(s), stored as a MultiPolygon
    contents: Mapping[str, tuple[str, bytes]] = field(default_factory=dict)  # path → (media type, bytes)
    source_filename: str = "example.geojson"
    source_path: str | None = None  # default: a new path under uploads/
    source_bytes: int = 1
    source_sha256: str | None = None  # default: a new digest
    convert_params: dict[str, Any] | None = None


def add_dataset(
    engine: Any,
    organization_id: Any,
    revisions: Sequence[StoredRevision] = (StoredRevision(),),
    *,
    name: str,
    kind: str = "footprints",
    visibility: str = "public",
    district: str | None = None,
    lod: str | None = None,
    published: int | None = -1,
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A dataset with ``revisions`` (numbered from 1); ``published`` indexes the published one (-1: the
    last, None: none). Returns the ids of the dataset and of its revisions."""
    assert revisions or published is None, "a dataset with no revision has none to publish"
    with session_scope(engine) as session:
        dataset = Dataset(
            organization_id=organization_id,
            name=name,
            kind=kind,
            lod=lod,
            district_code=district,
            visibility=visibility,
        )
        session.add(dataset)
        session.flush()
        stored = []
        for number, spec in enumerate(revisions, start=1):
            revision = DatasetRevision(
                dataset_id=dataset.id,
                number=number,
                state=spec.state,
                source_filename=spec.source_filename,
                source_path=spec.source_path or f"uploads/{uuid.uuid4().hex}",
                source_bytes=spec.source_bytes,
                source_sha256=spec.source_sha256 or hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
                convert_params=dict(spec.convert_params or {}),
                footprint=from_shape(multi(spec.footprint), srid=4326) if spec.footprint is not None else None,
            )
            session.add(revision)
            session.flush()
            for path, (media_type, data) in spec.contents.items():
                sha256 = hashlib.sha256(data).hexdigest()
                session.add(
                    TileContent(
                        revision_id=revision.id,
                        path=path,
                        media_type=media_type,
                        data=data,
                        size=len(data),
                        sha256=sha256,
                    )
                )
            stored.append(revision)
        if published is not None:  # the two fields cim_platform.datasets.publishing sets (module docstring)
            chosen = stored[published]
            dataset.published_revision_id, dataset.footprint = chosen.id, chosen.footprint
        return dataset.id, [revision.id for revision in stored]


def store_dataset(
    cast: Any, name: str, contents: dict[str, tuple[str, bytes]], *, visibility: str = "public", org: str = "survey"
) -> tuple[uuid.UUID, uuid.UUID]:
    """The ids of a new dataset and its published revision holding ``contents`` (path → media type, bytes)."""
    dataset_id, revisions = add_dataset(
        cast.engine,
        cast.orgs[org],
        [StoredRevision(contents=contents, source_path="uploads/example.geojson", source_sha256="0" * 64)],
        name=name,
        visibility=visibility,
    )
    return dataset_id, revisions[0]


def multi(geometry: BaseGeometry) -> MultiPolygon:
    """``geometry`` (a Polygon or MultiPolygon) as a MultiPolygon, the type stored footprints have."""
    if isinstance(geometry, MultiPolygon):
        return geometry
    assert isinstance(geometry, Polygon), geometry.geom_type
    return MultiPolygon([geometry])

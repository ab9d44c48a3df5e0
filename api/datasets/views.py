"""Datasets and revisions as response models; links built from route names (relative paths)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from geoalchemy2.shape import to_shape
from shapely.geometry import Point, mapping

from api.datasets.schemas import (
    DatasetOut,
    GeoJSONGeometry,
    GeoreferencingOut,
    OriginOut,
    RevisionLinks,
    RevisionOut,
    SourceFileOut,
    TileTotals,
    WithdrawalOut,
)
from cim_platform.datasets.models import (
    Dataset,
    DatasetKind,
    DatasetRevision,
    RevisionState,
    Visibility,
    has_tileset,
)


def geojson(geometry: Any) -> GeoJSONGeometry | None:
    return dict(mapping(to_shape(geometry))) if geometry is not None else None


def path_for(request: Request, route: str, **params: object) -> str:
    return str(request.app.url_path_for(route, **{key: str(value) for key, value in params.items()}))


def _georeferencing(revision: DatasetRevision) -> GeoreferencingOut:
    origin = to_shape(revision.origin) if revision.origin is not None else None
    assert origin is None or isinstance(origin, Point), "origins are stored as points"
    return GeoreferencingOut(
        source=revision.georef_source,
        crs=revision.crs,
        origin=OriginOut(lon=origin.x, lat=origin.y, height=origin.z) if origin is not None else None,
        origin_ecef=revision.origin_ecef,
        root_transform=revision.root_transform,
    )


def revision_view(request: Request, dataset: Dataset, revision: DatasetRevision, *, full: bool = False) -> RevisionOut:
    ready = revision.state == RevisionState.ready
    view = RevisionOut(
        id=revision.id,
        number=revision.number,
        state=RevisionState(revision.state),
        published=dataset.published_revision_id == revision.id,
        source=SourceFileOut(
            filename=revision.source_filename, bytes=revision.source_bytes, sha256=revision.source_sha256
        ),
        job_id=revision.job_id,
        created_at=revision.created_at,
        converted_at=revision.converted_at,
        tileset_url=(
            path_for(request, "revision_file", dataset_id=dataset.id, revision_id=revision.id, path="tileset.json")
            if ready and has_tileset(dataset.kind)
            else None
        ),
        links=RevisionLinks(
            job=path_for(request, "get_job", job_id=revision.job_id) if revision.job_id else None,
            source=path_for(request, "download_source", dataset_id=dataset.id, revision_id=revision.id),
        ),
        withdrawal=(
            WithdrawalOut(at=revision.withdrawn_at, by=revision.withdrawn_by, reason=revision.withdrawal_reason or "")
            if revision.state == RevisionState.withdrawn
            else None
        ),
    )
    if full:
        view.georeferencing = _georeferencing(revision)
        view.footprint = geojson(revision.footprint)
        view.height_range = [revision.min_height, revision.max_height]
        view.tiles = TileTotals(count=revision.tile_count, bytes=revision.tile_bytes)
        view.convert_params = revision.convert_params
        view.report = revision.report
    return view


def dataset_view(
    request: Request, dataset: Dataset, published: DatasetRevision | None = None, *, full: bool = False
) -> DatasetOut:
    return DatasetOut(
        id=dataset.id,
        name=dataset.name,
        description=dataset.description,
        kind=DatasetKind(dataset.kind),
        lod=dataset.lod,
        district=dataset.district_code,
        visibility=Visibility(dataset.visibility),
        organization_id=dataset.organization_id,
        organization_name=dataset.organization.name,
        created_at=dataset.created_at,
        updated_at=dataset.updated_at,
        published_revision_id=dataset.published_revision_id,
        publication=dataset.publication,
        tileset_url=(
            path_for(request, "dataset_tileset", dataset_id=dataset.id)
            if dataset.published_revision_id and has_tileset(dataset.kind)
            else None
        ),
        footprint=geojson(dataset.footprint),
        published_revision=revision_view(request, dataset, published, full=True) if full and published else None,
    )

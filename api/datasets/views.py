"""Shaping datasets and revisions for JSON answers."""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import mapping

from cim_platform.datasets.models import Dataset, DatasetRevision


def geojson(geometry: Any) -> dict[str, Any] | None:
    return mapping(to_shape(geometry)) if geometry is not None else None  # type: ignore[return-value]


def revision_view(dataset: Dataset, revision: DatasetRevision, *, full: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(revision.id),
        "number": revision.number,
        "state": revision.state,
        "published": dataset.published_revision_id == revision.id,
        "source": {
            "filename": revision.source_filename,
            "bytes": revision.source_bytes,
            "sha256": revision.source_sha256,
        },
        "job_id": str(revision.job_id) if revision.job_id else None,
        "created_at": revision.created_at.isoformat() if revision.created_at else None,
        "converted_at": revision.converted_at.isoformat() if revision.converted_at else None,
        "tileset_url": f"/tiles/{dataset.id}/r/{revision.id}/tileset.json" if revision.state == "ready" else None,
        "links": {
            "job": f"/api/v1/jobs/{revision.job_id}" if revision.job_id else None,
            "source": f"/api/v1/datasets/{dataset.id}/revisions/{revision.id}/source",
        },
    }
    if full:
        origin = to_shape(revision.origin) if revision.origin is not None else None
        view["georeferencing"] = {
            "source": revision.georef_source,
            "crs": revision.crs,
            "origin": {"lon": origin.x, "lat": origin.y, "height": origin.z} if origin is not None else None,
            "origin_ecef": revision.origin_ecef,
            "root_transform": revision.root_transform,
        }
        view["footprint"] = geojson(revision.footprint)
        view["height_range"] = [revision.min_height, revision.max_height]
        view["tiles"] = {"count": revision.tile_count, "bytes": revision.tile_bytes}
        view["convert_params"] = revision.convert_params
        view["report"] = revision.report
    return view


def dataset_view(dataset: Dataset, published: DatasetRevision | None = None, *, full: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(dataset.id),
        "name": dataset.name,
        "description": dataset.description,
        "kind": dataset.kind,
        "lod": dataset.lod,
        "district": dataset.district_code,
        "visibility": dataset.visibility,
        "organization_id": str(dataset.organization_id),
        "created_at": dataset.created_at.isoformat() if dataset.created_at else None,
        "updated_at": dataset.updated_at.isoformat() if dataset.updated_at else None,
        "published_revision_id": str(dataset.published_revision_id) if dataset.published_revision_id else None,
        "publication": dataset.publication,
        "tileset_url": f"/tiles/{dataset.id}/tileset.json" if dataset.published_revision_id else None,
        "footprint": geojson(dataset.footprint),
    }
    if full and published is not None:
        view["published_revision"] = revision_view(dataset, published, full=True)
    return view

"""OGC API – 3D GeoVolumes: landing page, conformance, collections (one per published dataset)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from shapely import wkt
from sqlalchemy import select

from api.deps import CallerDep, SessionDep
from cim_platform.core.errors import NotFound
from cim_platform.datasets.models import Dataset, DatasetRevision
from cim_platform.datasets.service import get_dataset, visible_datasets
from cim_platform.datasets.tilestore import root_extent

router = APIRouter(prefix="/ogc", tags=["OGC API - 3D GeoVolumes"])
CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-geovolumes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-geovolumes-1/1.0/conf/3dtiles",
]


def _base(request: Request) -> str:
    """CIM_PUBLIC_URL when set (behind a proxy), else the address the client used."""
    public = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


@router.get("")
def landing(request: Request) -> dict[str, Any]:
    base = _base(request)
    return {
        "title": "Ordos CIM platform – 3D GeoVolumes",
        "description": "Published BIM models and survey data of Ordos as 3D Tiles 1.1",
        "links": [
            {"href": f"{base}/ogc", "rel": "self", "type": "application/json"},
            {
                "href": f"{base}/openapi.json",
                "rel": "service-desc",
                "type": "application/vnd.oai.openapi+json;version=3.0",
            },
            {"href": f"{base}/docs", "rel": "service-doc", "type": "text/html"},
            {"href": f"{base}/ogc/conformance", "rel": "conformance", "type": "application/json"},
            {"href": f"{base}/ogc/collections", "rel": "data", "type": "application/json"},
        ],
    }


@router.get("/conformance")
def conformance() -> dict[str, Any]:
    return {"conformsTo": CONFORMANCE}


def _collection(request: Request, dataset: Dataset, revision: DatasetRevision) -> dict[str, Any]:
    base = _base(request)
    hull, low, high = root_extent(revision.tileset or {})
    west, south, east, north = wkt.loads(hull).bounds
    tileset = f"{base}/tiles/{dataset.id}/tileset.json"
    return {
        "id": str(dataset.id),
        "title": dataset.name,
        "description": dataset.description or f"{dataset.kind} dataset",
        "collectionType": "3d-container",
        "extent": {"spatial": {"bbox": [[west, south, low, east, north, high]], "crs": CRS84H}},
        "links": [
            {"href": f"{base}/ogc/collections/{dataset.id}", "rel": "self", "type": "application/json"},
            {"href": tileset, "rel": "items", "type": "application/3dtiles+json", "title": "3D Tiles 1.1 tileset"},
        ],
        "content": [{"href": tileset, "rel": "original", "type": "application/3dtiles+json", "title": dataset.name}],
    }


@router.get("/collections")
def collections(request: Request, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    query = (
        visible_datasets(caller)
        .add_columns(DatasetRevision)
        .join(DatasetRevision, DatasetRevision.id == Dataset.published_revision_id)
        .order_by(Dataset.name)
    )
    items = [_collection(request, d, r) for d, r in session.execute(query)]
    base = _base(request)
    return {
        "collections": items,
        "links": [{"href": f"{base}/ogc/collections", "rel": "self", "type": "application/json"}],
    }


@router.get("/collections/{dataset_id}")
def collection(dataset_id: uuid.UUID, request: Request, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    dataset = get_dataset(session, caller, dataset_id)
    revision = session.scalar(select(DatasetRevision).where(DatasetRevision.id == dataset.published_revision_id))
    if revision is None:
        raise NotFound(f"dataset {dataset_id} has no published revision yet")
    return _collection(request, dataset, revision)

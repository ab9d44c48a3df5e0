"""OGC API – 3D GeoVolumes: landing page, conformance, collections (one per published dataset)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from pydantic import BaseModel
from shapely import wkt
from sqlalchemy import select

from api.deps import CallerDep, SessionDep
from cim_platform.core.errors import NotFound
from cim_platform.datasets.models import WITHOUT_TILESET, Dataset, DatasetRevision, has_tileset
from cim_platform.datasets.service import get_dataset, visible_published
from cim_platform.datasets.tilestore import root_extent

router = APIRouter(prefix="/ogc", tags=["OGC API - 3D GeoVolumes"])


class Link(BaseModel):
    href: str
    rel: str
    type: str
    title: str | None = None


class LandingPage(BaseModel):
    title: str
    description: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]


class SpatialExtent(BaseModel):
    bbox: list[list[float]]
    crs: str


class Extent(BaseModel):
    spatial: SpatialExtent


class Collection(BaseModel):
    id: str
    title: str
    description: str
    collectionType: str
    extent: Extent
    links: list[Link]
    content: list[Link]


class Collections(BaseModel):
    collections: list[Collection]
    links: list[Link]


CRS84H = "http://www.opengis.net/def/crs/OGC/0/CRS84h"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/json",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    "http://www.opengis.net/spec/ogcapi-geovolumes-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-geovolumes-1/1.0/conf/3dtiles",
]


def _href(request: Request, route: str, **params: object) -> str:
    """A link to a route by name: absolute under CIM_PUBLIC_URL when set, else root-relative (never built
    from the request's Host header, which a client controls)."""
    path = str(request.app.url_path_for(route, **{key: str(value) for key, value in params.items()}))
    public: str | None = request.app.state.settings.public_url
    return public.rstrip("/") + path if public else path


@router.get("", response_model=LandingPage, response_model_exclude_none=True)
def landing(request: Request) -> LandingPage:
    return LandingPage.model_validate(
        {
            "title": "Ordos CIM platform – 3D GeoVolumes",
            "description": "Published BIM models and survey data of Ordos as 3D Tiles 1.1",
            "links": [
                {"href": _href(request, "landing"), "rel": "self", "type": "application/json"},
                {
                    "href": _href(request, "openapi"),
                    "rel": "service-desc",
                    "type": "application/vnd.oai.openapi+json;version=3.0",
                },
                {"href": _href(request, "swagger_ui_html"), "rel": "service-doc", "type": "text/html"},
                {"href": _href(request, "conformance"), "rel": "conformance", "type": "application/json"},
                {"href": _href(request, "collections"), "rel": "data", "type": "application/json"},
            ],
        }
    )


@router.get("/conformance", response_model=Conformance)
def conformance() -> Conformance:
    return Conformance(conformsTo=CONFORMANCE)


def _collection(request: Request, dataset: Dataset, revision: DatasetRevision) -> Collection:
    hull, low, high = root_extent(revision.tileset or {})
    west, south, east, north = wkt.loads(hull).bounds
    tileset = _href(request, "dataset_tileset", dataset_id=dataset.id)
    own = _href(request, "collection", dataset_id=dataset.id)
    return Collection.model_validate(
        {
            "id": str(dataset.id),
            "title": dataset.name,
            "description": dataset.description or f"{dataset.kind} dataset",
            "collectionType": "3d-container",
            "extent": {"spatial": {"bbox": [[west, south, low, east, north, high]], "crs": CRS84H}},
            "links": [
                {"href": own, "rel": "self", "type": "application/json"},
                {"href": tileset, "rel": "items", "type": "application/3dtiles+json", "title": "3D Tiles 1.1 tileset"},
            ],
            "content": [
                {"href": tileset, "rel": "original", "type": "application/3dtiles+json", "title": dataset.name}
            ],
        }
    )


@router.get("/collections", response_model=Collections, response_model_exclude_none=True)
def collections(request: Request, caller: CallerDep, session: SessionDep) -> Collections:
    query = (
        visible_published(caller)
        .where(Dataset.kind.not_in(WITHOUT_TILESET))  # terrain and imagery are no 3D containers
        .order_by(Dataset.name)
    )
    items = [_collection(request, d, r) for d, r in session.execute(query)]
    return Collections(
        collections=items, links=[Link(href=_href(request, "collections"), rel="self", type="application/json")]
    )


@router.get("/collections/{dataset_id}", response_model=Collection, response_model_exclude_none=True)
def collection(dataset_id: uuid.UUID, request: Request, caller: CallerDep, session: SessionDep) -> Collection:
    dataset = get_dataset(session, caller, dataset_id)
    revision = session.scalar(select(DatasetRevision).where(DatasetRevision.id == dataset.published_revision_id))
    if revision is None:
        raise NotFound(f"dataset {dataset_id} has no published revision yet")
    if not has_tileset(dataset.kind):
        raise NotFound(f"dataset {dataset_id} is {dataset.kind}, not a 3D Tiles collection: see /api/v1/ground/layers")
    return _collection(request, dataset, revision)

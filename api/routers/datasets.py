"""Datasets: uploads (multipart or raw PUT), revisions, publishing, listing."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select

from api.dataset_views import dataset_view, revision_view
from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep, requires
from api.uploads import parse_upload, receive_raw
from cim_platform.access import Caller, Scope
from cim_platform.datasets import service
from cim_platform.datasets.params import convert_params
from cim_platform.datasets.sources import IncomingFile, source_path
from cim_platform.db.models import DatasetRevision, District
from cim_platform.errors import InvalidInput
from cim_platform.jobs.service import enqueue

router = APIRouter(prefix="/api/v1", tags=["datasets"])
Writer = Annotated[Caller, Depends(requires(Scope.datasets_write))]
Reader = Annotated[Caller, Depends(requires(Scope.datasets_read))]


def _accepted(dataset: Any, new: service.NewRevision) -> JSONResponse:
    body = {
        "dataset": dataset_view(dataset),
        "revision": revision_view(dataset, new.revision),
        "job": {"id": str(new.job.id), "state": new.job.state, "href": f"/api/v1/jobs/{new.job.id}"},
    }
    return JSONResponse(body, status_code=202, headers={"Location": f"/api/v1/jobs/{new.job.id}"})


def _submit(
    settings: Any,
    engine: Any,
    session: Any,
    caller: Caller,
    dataset: Any,
    incoming: IncomingFile,
    fields: dict[str, str],
) -> JSONResponse:
    try:
        params = convert_params(fields)
        new = service.add_revision(session, settings, caller, dataset, incoming, params)
        session.commit()
    except Exception:
        session.rollback()
        incoming.discard()
        raise
    enqueue(settings, engine, new.job.id)
    return _accepted(dataset, new)


@router.post("/datasets", status_code=202)
async def create_dataset(
    request: Request, caller: Writer, settings: SettingsDep, engine: EngineDep, session: SessionDep
) -> JSONResponse:
    """Multipart: ``file`` plus ``name``, ``kind`` (or detected), ``district``, ``visibility``, ``description``
    and optional georeferencing (``crs``, ``origin`` E,N,H, ``rotation``, ``scale``, ``up``, ``local``,
    ``allow_ungeoreferenced``) and footprint fields (``height_field``, ``floors_field``, ``storey_height``)."""
    upload = await parse_upload(request, settings)
    assert upload.file is not None
    try:
        fields = upload.fields
        kind = service.resolve_kind(upload.file.filename, fields.get("kind"))
        dataset = service.create_dataset(
            session,
            caller,
            name=fields.get("name") or upload.file.filename,
            kind=kind,
            district=fields.get("district"),
            visibility=fields.get("visibility"),
            description=fields.get("description", ""),
        )
    except Exception:
        session.rollback()
        upload.file.discard()
        raise
    return _submit(settings, engine, session, caller, dataset, upload.file, upload.fields)


@router.post("/datasets/{dataset_id}/revisions", status_code=202)
async def add_revision(
    dataset_id: uuid.UUID,
    request: Request,
    caller: Writer,
    settings: SettingsDep,
    engine: EngineDep,
    session: SessionDep,
) -> JSONResponse:
    dataset = service.get_managed_dataset(session, caller, dataset_id)
    upload = await parse_upload(request, settings)
    assert upload.file is not None
    try:
        service.resolve_kind(upload.file.filename, dataset.kind)
    except Exception:
        upload.file.discard()
        raise
    return _submit(settings, engine, session, caller, dataset, upload.file, upload.fields)


@router.put("/datasets/{dataset_id}/revisions/raw", status_code=202)
async def add_revision_raw(
    dataset_id: uuid.UUID,
    request: Request,
    caller: Writer,
    settings: SettingsDep,
    engine: EngineDep,
    session: SessionDep,
    filename: Annotated[str, Query(min_length=1)],
) -> JSONResponse:
    """The body is the file itself (for very large files); parameters go in the query string."""
    dataset = service.get_managed_dataset(session, caller, dataset_id)
    service.resolve_kind(filename, dataset.kind)
    incoming = await receive_raw(request, settings, filename)
    fields = {k: v for k, v in request.query_params.items() if k != "filename"}
    return _submit(settings, engine, session, caller, dataset, incoming, fields)


@router.get("/datasets")
def list_datasets(
    caller: CallerDep,
    session: SessionDep,
    kind: str | None = None,
    district: str | None = None,
    organization: uuid.UUID | None = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north in degrees")] = None,
    q: Annotated[str | None, Query(description="Text in the name or description")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    box = None
    if bbox:
        try:
            box = tuple(float(v) for v in bbox.split(","))
        except ValueError:
            raise InvalidInput("bbox must be four numbers: west,south,east,north") from None
        if len(box) != 4 or box[0] > box[2] or box[1] > box[3]:
            raise InvalidInput("bbox must be west,south,east,north with west <= east and south <= north")
    filters = service.DatasetFilter(kind, district, organization, box, q, limit, offset)  # type: ignore[arg-type]
    datasets = service.list_datasets(session, caller, filters)
    return {"datasets": [dataset_view(d) for d in datasets], "count": len(datasets)}


@router.get("/datasets/{dataset_id}")
def get_dataset(dataset_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    dataset = service.get_dataset(session, caller, dataset_id)
    published = session.get(DatasetRevision, dataset.published_revision_id) if dataset.published_revision_id else None
    return dataset_view(dataset, published, full=True)


@router.get("/datasets/{dataset_id}/revisions")
def list_revisions(dataset_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    dataset = service.get_dataset(session, caller, dataset_id)
    return {"revisions": [revision_view(dataset, r) for r in dataset.revisions]}


@router.get("/datasets/{dataset_id}/revisions/{revision_id}")
def get_revision(
    dataset_id: uuid.UUID, revision_id: uuid.UUID, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    dataset = service.get_dataset(session, caller, dataset_id)
    return revision_view(dataset, service.get_revision(session, dataset, revision_id), full=True)


@router.get("/datasets/{dataset_id}/revisions/{revision_id}/source")
def download_source(
    dataset_id: uuid.UUID, revision_id: uuid.UUID, caller: Reader, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    """The original upload, byte for byte."""
    dataset = service.get_dataset(session, caller, dataset_id)
    caller.check_visible(dataset.organization_id, public=False, what=f"dataset {dataset_id}")
    revision = service.get_revision(session, dataset, revision_id)
    return FileResponse(
        source_path(settings, revision.source_path),
        filename=revision.source_filename,
        headers={"Digest": f"sha-256={revision.source_sha256}"},
    )


@router.post("/datasets/{dataset_id}/revisions/{revision_id}/publish")
def publish_revision(
    dataset_id: uuid.UUID, revision_id: uuid.UUID, caller: Writer, session: SessionDep
) -> dict[str, Any]:
    dataset = service.get_managed_dataset(session, caller, dataset_id)
    revision = service.get_revision(session, dataset, revision_id)
    service.publish(session, dataset, revision)
    session.commit()
    return dataset_view(dataset, revision, full=True)


@router.get("/districts", tags=["city"])
def list_districts(session: SessionDep) -> dict[str, Any]:
    rows = session.scalars(select(District).order_by(District.code))
    return {
        "districts": [
            {"code": d.code, "slug": d.slug, "name": d.name, "name_zh": d.name_zh, "kind": d.kind, "epsg": d.epsg}
            for d in rows
        ]
    }

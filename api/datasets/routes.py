"""Datasets: uploads (multipart or raw PUT), revisions, publishing, listing."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.datasets.uploads import parse_upload, receive_raw
from api.datasets.views import dataset_view, revision_view
from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep, requires
from cim_platform.core.access import Caller, Scope
from cim_platform.core.errors import InvalidInput
from cim_platform.core.jobs.service import enqueue
from cim_platform.datasets import publishing, service
from cim_platform.datasets.models import DatasetRevision, District
from cim_platform.datasets.params import convert_params
from cim_platform.datasets.sources import IncomingFile, source_path

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
    caller: Caller,
    dataset_id: uuid.UUID | None,
    dataset_fields: dict[str, Any] | None,
    incoming: IncomingFile,
    fields: dict[str, str],
) -> JSONResponse:
    """Create the dataset (or find it), the revision and its job in one transaction, then queue the job.
    Runs in the thread pool. On any failure the received file is removed and nothing is stored."""
    try:
        with Session(engine, expire_on_commit=False) as session:
            if dataset_id is None:
                assert dataset_fields is not None
                kind = service.resolve_kind(incoming.filename, dataset_fields.pop("kind"))
                dataset = service.create_dataset(session, caller, kind=kind, **dataset_fields)
            else:
                dataset = service.get_managed_dataset(session, caller, dataset_id)
                service.resolve_kind(incoming.filename, dataset.kind)
            params = convert_params(fields)
            new = service.add_revision(session, settings, caller, dataset, incoming, params)
            session.commit()
    except BaseException:
        incoming.discard()
        raise
    enqueue(settings, engine, new.job.id)
    return _accepted(dataset, new)


def _check_managed(engine: Any, caller: Caller, dataset_id: uuid.UUID, filename: str | None = None) -> None:
    """Refuse early (before reading a large body) what would be refused after it."""
    with Session(engine) as session:
        dataset = service.get_managed_dataset(session, caller, dataset_id)
        if filename is not None:
            service.resolve_kind(filename, dataset.kind)


@router.post("/datasets", status_code=202)
async def create_dataset(request: Request, caller: Writer, settings: SettingsDep, engine: EngineDep) -> JSONResponse:
    """Multipart: ``file`` plus ``name``, ``kind`` (or detected), ``district``, ``visibility``, ``description``
    and optional georeferencing (``crs``, ``origin`` E,N,H, ``rotation``, ``scale``, ``up``, ``local``,
    ``allow_ungeoreferenced``) and footprint fields (``height_field``, ``floors_field``, ``storey_height``)."""
    upload = await parse_upload(request, settings)
    assert upload.file is not None
    fields = upload.fields
    dataset_fields = {
        "name": fields.get("name") or upload.file.filename,
        "kind": fields.get("kind"),
        "district": fields.get("district"),
        "visibility": fields.get("visibility"),
        "description": fields.get("description", ""),
    }
    return await run_in_threadpool(_submit, settings, engine, caller, None, dataset_fields, upload.file, fields)


@router.post("/datasets/{dataset_id}/revisions", status_code=202)
async def add_revision(
    dataset_id: uuid.UUID, request: Request, caller: Writer, settings: SettingsDep, engine: EngineDep
) -> JSONResponse:
    await run_in_threadpool(_check_managed, engine, caller, dataset_id)
    upload = await parse_upload(request, settings)
    assert upload.file is not None
    return await run_in_threadpool(_submit, settings, engine, caller, dataset_id, None, upload.file, upload.fields)


@router.put("/datasets/{dataset_id}/revisions/raw", status_code=202)
async def add_revision_raw(
    dataset_id: uuid.UUID,
    request: Request,
    caller: Writer,
    settings: SettingsDep,
    engine: EngineDep,
    filename: Annotated[str, Query(min_length=1, max_length=1000)],
) -> JSONResponse:
    """The body is the file itself (for very large files); parameters go in the query string."""
    await run_in_threadpool(_check_managed, engine, caller, dataset_id, filename)
    incoming = await receive_raw(request, settings, filename)
    fields = {k: v for k, v in request.query_params.items() if k != "filename"}
    return await run_in_threadpool(_submit, settings, engine, caller, dataset_id, None, incoming, fields)


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
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
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
    publishing.publish(session, dataset, revision, caller=caller)
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

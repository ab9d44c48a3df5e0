"""Datasets: uploads (multipart or raw PUT), revisions, publishing, listing."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from geoalchemy2 import WKBElement
from geoalchemy2.shape import to_shape
from shapely.geometry import Point
from sqlalchemy import Engine, select
from starlette.concurrency import run_in_threadpool

from api.datasets.schemas import (
    DatasetList,
    DatasetOut,
    DistrictList,
    DistrictOut,
    JobRef,
    RevisionList,
    RevisionOut,
    RevisionWithdrawal,
    UploadAccepted,
)
from api.datasets.uploads import parse_upload, receive_raw
from api.datasets.views import dataset_view, path_for, revision_view
from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep, requires
from cim_platform.core.access import Caller, Scope
from cim_platform.core.db.engine import session_scope
from cim_platform.core.errors import InvalidInput
from cim_platform.core.jobs.service import enqueue
from cim_platform.core.settings import Settings
from cim_platform.datasets import publishing, service
from cim_platform.datasets.models import Dataset, DatasetKind, DatasetRevision, District
from cim_platform.datasets.params import convert_params
from cim_platform.datasets.service import DatasetSort
from cim_platform.datasets.sources import IncomingFile, source_path

router = APIRouter(prefix="/api/v1", tags=["datasets"])
Writer = Annotated[Caller, Depends(requires(Scope.datasets_write))]
Reader = Annotated[Caller, Depends(requires(Scope.datasets_read))]


def _accepted(request: Request, response: Response, dataset: Dataset, new: service.NewRevision) -> UploadAccepted:
    job_href = path_for(request, "get_job", job_id=new.job.id)
    response.headers["Location"] = job_href
    return UploadAccepted(
        dataset=dataset_view(request, dataset),
        revision=revision_view(request, dataset, new.revision),
        job=JobRef(id=new.job.id, state=new.job.state, href=job_href),
    )


def _submit(
    request: Request,
    response: Response,
    settings: Settings,
    engine: Engine,
    caller: Caller,
    dataset_id: uuid.UUID | None,
    dataset_fields: dict[str, Any] | None,
    incoming: IncomingFile,
    fields: dict[str, str],
) -> UploadAccepted:
    """Create the dataset (or find it), the revision and its job in one transaction, then queue the job.
    Runs in the thread pool. On any failure the received file is removed and nothing is stored."""
    try:
        with session_scope(engine) as session:
            if dataset_id is None:
                assert dataset_fields is not None
                kind = service.resolve_kind(incoming.filename, dataset_fields.pop("kind"), incoming.path)
                dataset = service.create_dataset(session, caller, kind=kind, **dataset_fields)
            else:
                dataset = service.get_managed_dataset(session, caller, dataset_id)
                service.resolve_kind(incoming.filename, dataset.kind, incoming.path)
            params = convert_params(fields)
            service.check_source(dataset.kind, incoming.path, params)
            new = service.add_revision(session, settings, caller, dataset, incoming, params)
            session.flush()
            accepted = _accepted(request, response, dataset, new)  # while the session can load what it needs
    except BaseException:
        incoming.discard()
        raise
    enqueue(settings, engine, new.job.id)
    return accepted


def _check_managed(engine: Engine, caller: Caller, dataset_id: uuid.UUID, filename: str | None = None) -> None:
    """Refuse early (before reading a large body) what would be refused after it."""
    with session_scope(engine) as session:
        dataset = service.get_managed_dataset(session, caller, dataset_id)
        if filename is not None:
            service.resolve_kind(filename, dataset.kind)


def _check_folder_kind(incoming: IncomingFile) -> None:
    """A folder's files assembled into a zip: say what a folder upload needs when it is not recognised."""
    try:
        service.resolve_kind(incoming.filename, None, incoming.path)
    except InvalidInput as error:
        incoming.discard()
        raise InvalidInput(
            f"the folder's files are not a dataset the platform reads ({error}); for a 3D Tiles tileset "
            "choose the folder that holds its tileset.json"
        ) from None
    except BaseException:
        incoming.discard()
        raise


@router.post("/datasets", status_code=202, response_model=UploadAccepted)
async def create_dataset(
    request: Request, response: Response, caller: Writer, settings: SettingsDep, engine: EngineDep
) -> UploadAccepted:
    """Multipart: ``file`` (or a folder's files: several ``files`` parts whose file names are the paths
    relative to the folder, e.g. a raw 3D Tiles tileset) plus ``name``, ``kind`` (or detected),
    ``district``, ``visibility``, ``description`` and optional georeferencing (``crs``, ``origin`` E,N,H,
    ``rotation``, ``scale``, ``up``, ``local``, ``allow_ungeoreferenced``) and footprint fields
    (``height_field``, ``floors_field``, ``storey_height``)."""
    upload = await parse_upload(request, settings)
    assert upload.file is not None
    fields = upload.fields
    if upload.folder is not None and not fields.get("kind"):
        await run_in_threadpool(_check_folder_kind, upload.file)
    dataset_fields = {
        "name": fields.get("name") or (upload.folder.folder_name() if upload.folder else upload.file.filename),
        "kind": fields.get("kind"),
        "district": fields.get("district"),
        "visibility": fields.get("visibility"),
        "description": fields.get("description", ""),
    }
    return await run_in_threadpool(
        _submit, request, response, settings, engine, caller, None, dataset_fields, upload.file, fields
    )


@router.post("/datasets/{dataset_id}/revisions", status_code=202, response_model=UploadAccepted)
async def add_revision(
    dataset_id: uuid.UUID,
    request: Request,
    response: Response,
    caller: Writer,
    settings: SettingsDep,
    engine: EngineDep,
) -> UploadAccepted:
    await run_in_threadpool(_check_managed, engine, caller, dataset_id)
    upload = await parse_upload(request, settings)
    assert upload.file is not None
    return await run_in_threadpool(
        _submit, request, response, settings, engine, caller, dataset_id, None, upload.file, upload.fields
    )


@router.put("/datasets/{dataset_id}/revisions/raw", status_code=202, response_model=UploadAccepted)
async def add_revision_raw(
    dataset_id: uuid.UUID,
    request: Request,
    response: Response,
    caller: Writer,
    settings: SettingsDep,
    engine: EngineDep,
    filename: Annotated[str, Query(min_length=1, max_length=1000)],
) -> UploadAccepted:
    """The body is the file itself (for very large files); parameters go in the query string."""
    await run_in_threadpool(_check_managed, engine, caller, dataset_id, filename)
    incoming = await receive_raw(request, settings, filename)
    fields = {k: v for k, v in request.query_params.items() if k != "filename"}
    return await run_in_threadpool(
        _submit, request, response, settings, engine, caller, dataset_id, None, incoming, fields
    )


@router.get("/datasets", response_model=DatasetList)
def list_datasets(
    request: Request,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    kind: DatasetKind | None = None,
    district: str | None = None,
    organization: uuid.UUID | None = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north in degrees")] = None,
    q: Annotated[str | None, Query(description="Text in the name or description", max_length=200)] = None,
    sort: Annotated[DatasetSort, Query(description="Order; a leading - sorts descending")] = DatasetSort.newest,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> DatasetList:
    box = _parse_bbox(bbox) if bbox else None
    filters = service.DatasetFilter(kind, district, organization, box, q, limit, offset, sort)
    page = service.list_datasets(session, caller, filters)
    response.headers["X-Total-Count"] = str(page.total)
    return DatasetList(
        datasets=[dataset_view(request, d) for d in page.datasets], count=len(page.datasets), total=page.total
    )


def _parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidInput("bbox must be four numbers: west,south,east,north") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidInput("bbox must be four finite numbers: west,south,east,north")
    west, south, east, north = values
    if west > east or south > north:
        raise InvalidInput("bbox must be west,south,east,north with west <= east and south <= north")
    return west, south, east, north


@router.get("/datasets/{dataset_id}", response_model=DatasetOut)
def get_dataset(dataset_id: uuid.UUID, request: Request, caller: CallerDep, session: SessionDep) -> DatasetOut:
    dataset = service.get_dataset(session, caller, dataset_id)
    published = session.get(DatasetRevision, dataset.published_revision_id) if dataset.published_revision_id else None
    return dataset_view(request, dataset, published, full=True)


@router.get("/datasets/{dataset_id}/revisions", response_model=RevisionList)
def list_revisions(dataset_id: uuid.UUID, request: Request, caller: CallerDep, session: SessionDep) -> RevisionList:
    dataset = service.get_dataset(session, caller, dataset_id)
    return RevisionList(revisions=[revision_view(request, dataset, r) for r in dataset.revisions])


@router.get("/datasets/{dataset_id}/revisions/{revision_id}", response_model=RevisionOut)
def get_revision(
    dataset_id: uuid.UUID, revision_id: uuid.UUID, request: Request, caller: CallerDep, session: SessionDep
) -> RevisionOut:
    dataset = service.get_dataset(session, caller, dataset_id)
    return revision_view(request, dataset, service.get_revision(session, dataset, revision_id), full=True)


@router.get(
    "/datasets/{dataset_id}/revisions/{revision_id}/source",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The original upload"}},
)
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
        media_type="application/octet-stream",  # the bytes as uploaded, whatever their format
        headers={"Digest": f"sha-256={revision.source_sha256}"},
    )


@router.post("/datasets/{dataset_id}/revisions/{revision_id}/publish", response_model=DatasetOut)
def publish_revision(
    dataset_id: uuid.UUID, revision_id: uuid.UUID, request: Request, caller: Writer, session: SessionDep
) -> DatasetOut:
    dataset = service.get_managed_dataset(session, caller, dataset_id)
    revision = service.get_revision(session, dataset, revision_id)
    publishing.publish(session, dataset, revision, caller=caller)
    session.commit()
    return dataset_view(request, dataset, revision, full=True)


@router.post("/datasets/{dataset_id}/revisions/{revision_id}/withdraw", response_model=RevisionOut)
def withdraw_revision(
    dataset_id: uuid.UUID,
    revision_id: uuid.UUID,
    body: RevisionWithdrawal,
    request: Request,
    caller: Writer,
    session: SessionDep,
) -> RevisionOut:
    """Take a revision back (owners and admins): its revision-pinned URLs answer 410 Gone on every path
    (this server process at once, the others within CIM_TILE_ACCESS_TTL_S). The published revision
    cannot be withdrawn: publish another first."""
    dataset = service.get_managed_dataset(session, caller, dataset_id)
    unshared = service.withdraw_revision(session, caller, dataset, revision_id, body.reason)
    session.commit()
    request.app.state.tiles.forget_revision(dataset_id, revision_id, unshared)
    return revision_view(request, dataset, service.get_revision(session, dataset, revision_id), full=True)


def _point(geometry: WKBElement | None) -> list[float] | None:
    if geometry is None:
        return None
    point = to_shape(geometry)
    return [point.x, point.y] if isinstance(point, Point) else None


@router.get("/districts", tags=["city"], response_model=DistrictList)
def list_districts(session: SessionDep) -> DistrictList:
    rows = session.scalars(select(District).order_by(District.code))
    return DistrictList(
        districts=[
            DistrictOut(
                code=d.code, slug=d.slug, name=d.name, name_zh=d.name_zh, kind=d.kind, epsg=d.epsg, seat=_point(d.seat)
            )
            for d in rows
        ]
    )

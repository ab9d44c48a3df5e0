"""The survey-and-mapping archive over HTTP: filing items (multipart, streamed to disk while hashed, with
the datasets domain's upload helpers), QA steps, versions, completeness and the BagIt package."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from api.datasets.uploads import parse_upload
from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep
from api.heritage.http import HeritageRoute
from api.heritage.schemas import (
    ArchiveItemForm,
    ArchiveItemList,
    ArchiveItemOut,
    BuildingCompletenessOut,
    CompletenessOut,
    QaRequest,
    RetireRequest,
)
from api.heritage.views import path_for
from cim_platform.core.access import Caller
from cim_platform.core.db.engine import session_scope
from cim_platform.core.errors import InvalidInput
from cim_platform.core.jobs.service import enqueue
from cim_platform.core.settings import Settings
from cim_platform.datasets.params import convert_params
from cim_platform.datasets.sources import IncomingFile, source_path
from cim_platform.heritage import archive, service
from cim_platform.heritage.conversion import convert_item
from cim_platform.heritage.models import ArchiveItem, Status
from cim_platform.heritage.package import bag_name, build_package
from cim_platform.heritage.scopes import HeritageScope

router = APIRouter(prefix="/api/v1/heritage", tags=["heritage"], route_class=HeritageRoute)


def item_view(request: Request, item: ArchiveItem) -> ArchiveItemOut:
    return ArchiveItemOut.model_validate(
        {
            **{column: getattr(item, column) for column in ArchiveItemOut.model_fields if column != "file_url"},
            "file_url": path_for(request, "archive_item_file", item_id=item.id),
        }
    )


def _check_can_file(engine: Engine, caller: Caller, building_id: uuid.UUID) -> None:
    """Refuse before reading a large body what would be refused after it."""
    caller.require(HeritageScope.write)
    with session_scope(engine) as session:
        service.get_building(session, caller, building_id)


def _file(
    settings: Settings,
    engine: Engine,
    caller: Caller,
    building_id: uuid.UUID,
    incoming: IncomingFile,
    form: ArchiveItemForm,
) -> ArchiveItem:
    """File the item (and, with ``convert``, create its dataset and conversion job) in one transaction;
    the job is queued once it is committed."""
    job_id = None
    try:
        with session_scope(engine) as session:
            building = service.get_building(session, caller, building_id)
            metadata = form.model_dump(
                exclude={"section", "kind", "supersedes", "convert", "crs", "origin"}, exclude_unset=True
            )
            item = archive.add_item(
                session,
                settings,
                caller,
                building,
                incoming,
                section=form.section,
                kind=form.kind,
                metadata=metadata,
                supersedes=form.supersedes,
            )
            if form.convert:
                params = convert_params({k: v for k, v in (("crs", form.crs), ("origin", form.origin)) if v})
                job_id = convert_item(session, settings, caller, building, item, params)
    except BaseException:
        incoming.discard()
        raise
    if job_id is not None:
        enqueue(settings, engine, job_id)
    return item


@router.post("/buildings/{building_id}/items", status_code=201, response_model=ArchiveItemOut)
async def file_item(
    building_id: uuid.UUID,
    request: Request,
    response: Response,
    caller: CallerDep,
    settings: SettingsDep,
    engine: EngineDep,
) -> ArchiveItemOut:
    """Multipart: ``file`` plus ``section``, ``kind``, ``title`` and survey metadata (``plane_datum``,
    ``height_datum``, ``survey_tier``, ``accuracy``, ``captured_on``, ``surveyor``, ``organisation``,
    ``equipment``), ``event_date`` for dated series, ``supersedes`` for a new version of an item."""
    await run_in_threadpool(_check_can_file, engine, caller, building_id)
    upload = await parse_upload(request, settings)
    assert upload.file is not None
    try:
        form = ArchiveItemForm.model_validate({k: v for k, v in upload.fields.items() if v != ""})
    except ValidationError as exc:
        upload.file.discard()
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])
        raise InvalidInput(f"invalid archive item: {problems}") from None
    item = await run_in_threadpool(_file, settings, engine, caller, building_id, upload.file, form)
    response.headers["Location"] = path_for(request, "get_archive_item", item_id=item.id)
    return item_view(request, item)


@router.get("/buildings/{building_id}/items", response_model=ArchiveItemList)
def list_items(
    building_id: uuid.UUID,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    every_version: Annotated[bool, Query(description="Also superseded and retired items")] = False,
) -> ArchiveItemList:
    service.get_building(session, caller, building_id)
    items = archive.list_items(session, caller, building_id, every_version=every_version)
    return ArchiveItemList(items=[item_view(request, item) for item in items])


@router.get("/items/{item_id}", response_model=ArchiveItemOut)
def get_archive_item(item_id: uuid.UUID, request: Request, caller: CallerDep, session: SessionDep) -> ArchiveItemOut:
    return item_view(request, archive.get_item(session, caller, item_id))


@router.get(
    "/items/{item_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The original file"}},
)
def archive_item_file(
    item_id: uuid.UUID, caller: CallerDep, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    """The original file, byte for byte."""
    item = archive.get_item(session, caller, item_id)
    return FileResponse(
        source_path(settings, item.path), filename=item.filename, headers={"Digest": f"sha-256={item.sha256}"}
    )


@router.post("/items/{item_id}/qa", response_model=ArchiveItemOut)
def qa_step(
    item_id: uuid.UUID, body: QaRequest, request: Request, caller: CallerDep, session: SessionDep
) -> ArchiveItemOut:
    """self_check → re_check (someone other than who filed it) → accepted (officials, admins)."""
    item = archive.qa_step(session, caller, item_id, body.to, body.comment)
    session.commit()
    return item_view(request, item)


@router.post("/items/{item_id}/retire", response_model=ArchiveItemOut)
def retire_item(
    item_id: uuid.UUID, body: RetireRequest, request: Request, caller: CallerDep, session: SessionDep
) -> ArchiveItemOut:
    """No hard delete: the item stays (file, history) but no longer counts."""
    item = archive.retire_item(session, caller, item_id, body.reason)
    session.commit()
    return item_view(request, item)


@router.get("/completeness", response_model=CompletenessOut)
def completeness(
    caller: CallerDep, session: SessionDep, district: Annotated[str | None, Query(max_length=80)] = None
) -> CompletenessOut:
    """Per active record (of ``district``, or all) the archive sections still missing, and the city-wide
    share of listed records whose archive is complete."""
    report = archive.completeness(session, caller, district)
    rows = [
        BuildingCompletenessOut(
            id=r.building.id,
            code=r.building.code,
            name=r.building.name,
            district=r.building.district_code,
            status=Status(r.building.status),
            complete=not r.missing,
            missing=r.missing,
        )
        for r in report.buildings
    ]
    share = report.listed_complete / report.listed_total if report.listed_total else None
    return CompletenessOut(
        buildings=rows, listed_total=report.listed_total, listed_complete=report.listed_complete, share_complete=share
    )


@router.get(
    "/buildings/{building_id}/package",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The archive as a zipped BagIt bag"}},
)
def building_package(
    building_id: uuid.UUID, caller: CallerDep, session: SessionDep, settings: SettingsDep
) -> FileResponse:
    """The record's whole archive (record JSON, every item and version, history, original files) as a
    zipped BagIt package with SHA-256 and SHA-512 manifests."""
    caller.require(HeritageScope.read)
    building = service.get_building(session, caller, building_id)
    items = archive.list_items(session, caller, building_id, every_version=True)
    history = [
        {"at": e.at.isoformat(), "actor": e.actor_username, "action": e.action, "before": e.before, "after": e.after}
        for e in service.history(session, caller, building_id)
    ]
    folder = Path(tempfile.mkdtemp(prefix="heritage-package-"))
    try:
        target = build_package(settings, building, items, history, folder / "package.zip")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        target,
        media_type="application/zip",
        filename=f"{bag_name(building.code)}.zip",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )

"""Facade projects and their photos over HTTP (issue 11)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.datasets.uploads import parse_upload
from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep
from api.errors import error_response
from api.facades.schemas import (
    ErrorBody,
    PhotoList,
    PhotoOut,
    ProjectCreate,
    ProjectList,
    ProjectOut,
    ProjectStatusChange,
    ProjectUpdate,
)
from api.facades.views import photo_view, project_view
from cim_platform.core.access import Caller
from cim_platform.core.conditional import if_match_names
from cim_platform.core.db.engine import session_scope
from cim_platform.core.errors import InvalidInput
from cim_platform.core.settings import Settings
from cim_platform.datasets.sources import IncomingFile, source_path
from cim_platform.facades import photos, projects
from cim_platform.facades.models import Photo, PhotoStage, Project, ProjectStatus
from cim_platform.facades.palette import Outcome
from cim_platform.facades.scopes import FacadesScope

router = APIRouter(prefix="/api/v1/facades", tags=["facades"])
IfMatch = Annotated[str | None, Header(alias="If-Match", description="the project's ETag as read (optional)")]
STALE: dict[int | str, dict[str, Any]] = {
    412: {"model": ErrorBody, "description": "If-Match names an older version of the project: nothing was written"}
}


def etag(project: Project) -> str:
    return f'"{project.id}.{project.version}"'


def stale(project: Project, if_match: str | None) -> Response | None:
    """412 when If-Match names another version (a write without If-Match is taken as is)."""
    if if_match is None or not if_match.strip():
        return None
    if if_match_names(if_match, etag(project)):
        return None
    return error_response(
        412,
        "precondition_failed",
        f"the project changed since you read it (now version {project.version}); nothing was written",
        {"etag": etag(project), "version": project.version},
        headers={"ETag": etag(project)},
    )


def _values(body: ProjectCreate | ProjectUpdate) -> dict[str, Any]:
    return (
        body.model_dump(mode="json", exclude_unset=True, exclude={"crs"})
        | {k: getattr(body, k) for k in ("street_id", "dataset_id") if k in body.model_fields_set}
        | {
            k: getattr(body, k)
            for k in ("planned_start", "planned_end", "actual_start", "actual_end")
            if k in body.model_fields_set
        }
    )


@router.post("/projects", status_code=201, response_model=ProjectOut)
def create_project(body: ProjectCreate, response: Response, caller: CallerDep, session: SessionDep) -> ProjectOut:
    """A new project (planned). Colours are read and checked; the building's footprint is checked
    against historic records (approval documents then required)."""
    project = projects.create(session, caller, _values(body), body.crs)
    session.commit()
    response.headers["Location"] = f"/api/v1/facades/projects/{project.id}"
    response.headers["ETag"] = etag(project)
    return project_view(project)


@router.get("/projects", response_model=ProjectList)
def list_projects(
    caller: CallerDep,
    session: SessionDep,
    street: uuid.UUID | None = None,
    district: Annotated[str | None, Query(max_length=40)] = None,
    status: ProjectStatus | None = None,
    colour_outcome: Outcome | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ProjectList:
    caller.require(FacadesScope.read)
    rows, total = projects.listing(
        session,
        street_id=street,
        district=district,
        status=status,
        colour_outcome=colour_outcome,
        limit=limit,
        offset=offset,
    )
    return ProjectList(total=total, items=[project_view(p) for p in rows])


@router.get("/projects/{project_id}", response_model=ProjectOut)
def get_project(project_id: uuid.UUID, response: Response, caller: CallerDep, session: SessionDep) -> ProjectOut:
    caller.require(FacadesScope.read)
    project = projects.get(session, project_id)
    response.headers["ETag"] = etag(project)
    return project_view(project)


@router.patch("/projects/{project_id}", response_model=ProjectOut, responses=STALE)
def update_project(
    project_id: uuid.UUID,
    body: ProjectUpdate,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> ProjectOut | Response:
    caller.require(FacadesScope.write)
    project = projects.get(session, project_id)
    refused = stale(project, if_match)
    if refused is not None:
        return refused
    project = projects.update(session, caller, project, _values(body), body.crs)
    session.commit()
    response.headers["ETag"] = etag(project)
    return project_view(project)


@router.post("/projects/{project_id}/status", response_model=ProjectOut, responses=STALE)
def change_project_status(
    project_id: uuid.UUID,
    body: ProjectStatusChange,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> ProjectOut | Response:
    """planned → design → approved (officials) → construction → completed → accepted (officials)."""
    caller.require(FacadesScope.write)
    project = projects.get(session, project_id)
    refused = stale(project, if_match)
    if refused is not None:
        return refused
    project = projects.change_status(session, caller, project, body.status)
    session.commit()
    response.headers["ETag"] = etag(project)
    return project_view(project)


class PhotoForm(BaseModel):
    stage: PhotoStage
    caption: str = Field(default="", max_length=2000)


def _check_can_add(engine: Engine, caller: Caller, project_id: uuid.UUID) -> None:
    caller.require(FacadesScope.write)
    with session_scope(engine) as session:
        project = projects.get(session, project_id)
        if not caller.reads_everything():
            caller.check_manages(project.organization_id, what="project")


def _file(
    settings: Settings, engine: Engine, caller: Caller, project_id: uuid.UUID, incoming: IncomingFile, form: PhotoForm
) -> Photo:
    try:
        with session_scope(engine) as session:
            project = projects.get(session, project_id)
            photo = photos.add_photo(
                session, settings, caller, project, incoming, stage=form.stage, caption=form.caption
            )
            session.flush()
            session.expunge(photo)
    except BaseException:
        incoming.discard()
        raise
    return photo


@router.post("/projects/{project_id}/photos", status_code=201, response_model=PhotoOut)
async def add_photo(
    project_id: uuid.UUID, request: Request, caller: CallerDep, settings: SettingsDep, engine: EngineDep
) -> PhotoOut:
    """Multipart: ``file`` (the photo, kept byte for byte), ``stage`` (before, progress, after), ``caption``."""
    await run_in_threadpool(_check_can_add, engine, caller, project_id)
    upload = await parse_upload(request, settings)
    assert upload.file is not None
    try:
        form = PhotoForm.model_validate({k: v for k, v in upload.fields.items() if v != ""})
    except ValidationError as exc:
        upload.file.discard()
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:3])
        raise InvalidInput(f"invalid photo: {problems}") from None
    photo = await run_in_threadpool(_file, settings, engine, caller, project_id, upload.file, form)
    return photo_view(photo)


@router.get("/projects/{project_id}/photos", response_model=PhotoList)
def list_photos(project_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> PhotoList:
    caller.require(FacadesScope.read)
    projects.get(session, project_id)
    return PhotoList(items=[photo_view(p) for p in photos.list_photos(session, project_id)])


@router.get(
    "/photos/{photo_id}/file",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The original photo"}},
)
def photo_file(photo_id: uuid.UUID, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """The original photo, byte for byte."""
    caller.require(FacadesScope.read)
    photo = photos.get_photo(session, photo_id)
    return FileResponse(
        source_path(settings, photo.path), filename=photo.filename, headers={"Digest": f"sha-256={photo.sha256}"}
    )

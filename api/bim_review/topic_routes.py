"""BCF topics on IFC revisions over HTTP, and BCF-XML export and import."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from api.bim_review.topic_schemas import (
    CameraIn,
    CommentCreate,
    CommentPublic,
    TopicCreate,
    TopicList,
    TopicPublic,
    TopicUpdate,
    ViewpointIn,
    ViewpointPublic,
)
from api.deps import CallerDep, SessionDep, SettingsDep
from cim_platform.bim_review import bcf_exchange, topics
from cim_platform.bim_review.bcf_files import Camera
from cim_platform.bim_review.models import BcfTopic
from cim_platform.bim_review.viewpoints import EngineeringFrame, GlobeCamera
from cim_platform.core.errors import CimError, InvalidInput, PayloadTooLarge
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import DatasetRevision

router = APIRouter(prefix="/api/v1/bim", tags=["bim-review"])
BCF_MEDIA = "application/octet-stream"
Version = Literal["3.0", "2.1"]


def viewpoint_input(view: ViewpointIn) -> topics.ViewpointInput:
    def globe(c: CameraIn) -> GlobeCamera:
        return GlobeCamera(c.position, c.direction, c.up, c.field_of_view, c.aspect_ratio, c.view_to_world_scale)

    def model(c: CameraIn) -> Camera:
        return Camera(c.position, c.direction, c.up, c.field_of_view, c.aspect_ratio, c.view_to_world_scale)

    return topics.ViewpointInput(
        globe_camera=globe(view.globe_camera) if view.globe_camera else None,
        model_camera=model(view.camera) if view.camera else None,
        selected=view.selected,
        coloured=view.coloured,
    )


class FrameCache:
    """Engineering frames per revision for one request (a topic list opens the model once)."""

    def __init__(self, session: Session, settings: Settings) -> None:
        self.session, self.settings = session, settings
        self.frames: dict[uuid.UUID, EngineeringFrame | None] = {}

    def get(self, revision_id: uuid.UUID) -> EngineeringFrame | None:
        if revision_id not in self.frames:
            revision = self.session.get(DatasetRevision, revision_id)
            try:
                self.frames[revision_id] = topics.frame_of(self.settings, revision) if revision else None
            except CimError:
                self.frames[revision_id] = None
        return self.frames[revision_id]


def topic_view(session: Session, frames: FrameCache, topic: BcfTopic) -> TopicPublic:
    viewpoints = []
    for v in topics.viewpoints_of(session, topic.id):
        camera = topics.model_camera(v)
        frame = frames.get(topic.revision_id) if camera is not None else None
        globe = frame.camera_to_globe(camera) if frame is not None and camera is not None else None
        viewpoints.append(
            ViewpointPublic(
                id=v.id,
                camera=camera.__dict__ if camera else None,  # type: ignore[arg-type]
                globe_camera=globe.__dict__ if globe else None,  # type: ignore[arg-type]
                selected=list(v.selected),
                coloured=dict(v.coloured),
                snapshot_type=v.snapshot_type,
            )
        )
    return TopicPublic(
        id=topic.id,
        dataset_id=topic.dataset_id,
        revision_id=topic.revision_id,
        title=topic.title,
        topic_type=topic.topic_type,
        status=topic.status,
        priority=topic.priority,
        assigned_to=topic.assigned_to,
        due_date=topic.due_date,
        labels=list(topic.labels),
        description=topic.description,
        elements=list(topic.elements),
        author=topic.author,
        created_at=topic.created_at,
        modified_at=topic.modified_at,
        comments=[
            CommentPublic(id=c.id, author=c.author, text=c.text, viewpoint_id=c.viewpoint_id, created_at=c.created_at)
            for c in topics.comments_of(session, topic.id)
        ],
        viewpoints=viewpoints,
    )


@router.get("/revisions/{revision_id}/topics", response_model=TopicList)
def list_topics(revision_id: uuid.UUID, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> TopicList:
    frames = FrameCache(session, settings)
    return TopicList(
        items=[topic_view(session, frames, t) for t in topics.topics_of_revision(session, caller, revision_id)]
    )


@router.post("/revisions/{revision_id}/topics", status_code=201, response_model=TopicPublic)
def create_topic(
    revision_id: uuid.UUID,
    body: TopicCreate,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> TopicPublic:
    """A topic on elements of the revision; its viewpoint's globe camera is stored in model coordinates."""
    values = body.model_dump(exclude={"elements", "viewpoint"})
    view = viewpoint_input(body.viewpoint) if body.viewpoint else None
    elements = list(body.elements) + (list(body.viewpoint.selected) if body.viewpoint else [])
    topic = topics.create_topic(session, settings, caller, revision_id, values, elements=elements, viewpoint=view)
    session.commit()
    response.headers["Location"] = f"/api/v1/bim/topics/{topic.id}"
    return topic_view(session, FrameCache(session, settings), topic)


@router.get("/topics/{topic_id}", response_model=TopicPublic)
def get_topic(topic_id: uuid.UUID, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> TopicPublic:
    return topic_view(session, FrameCache(session, settings), topics.get_topic(session, caller, topic_id))


@router.patch("/topics/{topic_id}", response_model=TopicPublic)
def update_topic(
    topic_id: uuid.UUID, body: TopicUpdate, caller: CallerDep, session: SessionDep, settings: SettingsDep
) -> TopicPublic:
    topic = topics.update_topic(session, caller, topic_id, body.model_dump(exclude_unset=True))
    session.commit()
    return topic_view(session, FrameCache(session, settings), topic)


@router.post("/topics/{topic_id}/comments", status_code=201, response_model=CommentPublic)
def add_comment(topic_id: uuid.UUID, body: CommentCreate, caller: CallerDep, session: SessionDep) -> CommentPublic:
    comment = topics.add_comment(session, caller, topic_id, body.text, body.viewpoint_id)
    session.commit()
    return CommentPublic(
        id=comment.id,
        author=comment.author,
        text=comment.text,
        viewpoint_id=comment.viewpoint_id,
        created_at=comment.created_at,
    )


@router.post("/topics/{topic_id}/viewpoints", status_code=201, response_model=TopicPublic)
def add_viewpoint(
    topic_id: uuid.UUID, body: ViewpointIn, caller: CallerDep, session: SessionDep, settings: SettingsDep
) -> TopicPublic:
    topics.add_viewpoint(session, settings, caller, topic_id, viewpoint_input(body))
    session.commit()
    return topic_view(session, FrameCache(session, settings), topics.get_topic(session, caller, topic_id))


def _bcf_file(name: str, data: bytes, version: str) -> Response:
    filename = f"{name.replace('/', '_')}-bcf{version}.bcf"
    return Response(
        data,
        media_type=BCF_MEDIA,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}"},
    )


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text)


@router.get(
    "/revisions/{revision_id}/bcf",
    response_class=Response,
    responses={200: {"content": {BCF_MEDIA: {}}, "description": "BCF-XML (zip) of the revision's topics"}},
)
def export_bcf(
    revision_id: uuid.UUID,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    version: Version = Query("3.0"),
) -> Response:
    """The revision's topics as BCF-XML 3.0 (or 2.1) for BIM tools (a viewpoint stored without a camera
    gets one looking at its elements, as BCF 3.0 requires a camera)."""
    name, data = bcf_exchange.export_revision(session, caller, revision_id, version, settings)
    return _bcf_file(name, data, version)


@router.post("/revisions/{revision_id}/bcf", response_model=TopicList)
async def import_bcf(revision_id: uuid.UUID, request: Request, caller: CallerDep, settings: SettingsDep) -> TopicList:
    """BCF-XML (the file as the request body) from a BIM tool: topics land on the revision (same GUIDs
    update the same topics)."""
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > bcf_exchange.MAX_BCF_BYTES:
            raise PayloadTooLarge(f"a BCF file is limited to {bcf_exchange.MAX_BCF_BYTES // (1024 * 1024)} MiB")
    if not data:
        raise InvalidInput("send the BCF file as the request body")
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_import, request, revision_id, bytes(data), caller, settings)


def _import(request: Request, revision_id: uuid.UUID, data: bytes, caller: object, settings: Settings) -> TopicList:
    from cim_platform.core.access import Caller
    from cim_platform.core.db.engine import session_factory

    assert isinstance(caller, Caller)
    with session_factory(request.app.state.engine)() as session:
        landed = bcf_exchange.import_bcf(session, caller, revision_id, data)
        session.commit()
        frames = FrameCache(session, settings)
        return TopicList(items=[topic_view(session, frames, t) for t in landed])


@router.get(
    "/revisions/{revision_id}/ids-failures.bcf",
    response_class=Response,
    responses={200: {"content": {BCF_MEDIA: {}}, "description": "BCF-XML: one topic per failing IDS requirement"}},
)
def ids_failures_bcf(
    revision_id: uuid.UUID,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    version: Version = Query("3.0"),
) -> Response:
    """The IDS failures of the revision as BCF topics, in one step (failing elements selected and coloured)."""
    name, data = bcf_exchange.ids_failures_as_bcf(session, settings, caller, revision_id, version)
    return _bcf_file(name, data, version)

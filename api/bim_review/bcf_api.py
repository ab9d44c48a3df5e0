"""A minimal subset of buildingSMART's BCF REST API 3.0 for BIM tools that speak it: versions, auth,
projects, topics, comments and viewpoints (a perspective or an orthogonal camera, components, and a
snapshot image served by ``.../viewpoints/{guid}/snapshot``), on the same topics as the portal's routes
(cim_platform/bim_review/topics.py; no second model).

A BCF project is one IFC revision of a dataset: ``project_id`` is the revision's id, stable for ever
(a new upload is a new project, as its elements and GlobalIds may differ). Authentication is the
platform's API token (``Authorization: Bearer <token>``); there is no OAuth2 flow. Visibility and roles
are those of the topic routes: design institutes their own models, officials all, viewers read only.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from api.bim_review.bcf_api_schemas import (
    BCF_VERSION,
    DETAILED_VERSION,
    BcfAuth,
    BcfColoring,
    BcfComment,
    BcfCommentCreate,
    BcfProject,
    BcfSelection,
    BcfTopic,
    BcfTopicCreate,
    BcfTopicWrite,
    BcfVersion,
    BcfVersions,
    BcfViewpoint,
    BcfViewpointCreate,
    ColoringOut,
    ComponentOut,
    ComponentsOut,
    OrthogonalCameraOut,
    PerspectiveCameraOut,
    ProjectAuthorization,
    SnapshotOut,
    TopicAuthorization,
)
from api.deps import CallerDep, SessionDep, SettingsDep
from cim_platform.bim_review import bcf_files, topics
from cim_platform.bim_review.errors import TopicNotFound
from cim_platform.bim_review.models import BcfComment as CommentRow
from cim_platform.bim_review.models import BcfTopic as TopicRow
from cim_platform.bim_review.models import BcfViewpoint as ViewpointRow
from cim_platform.bim_review.scopes import BimScope
from cim_platform.core.access import Caller
from cim_platform.core.errors import InvalidInput, NotFound
from cim_platform.datasets.models import Dataset, DatasetRevision

PREFIX = f"/bcf/{BCF_VERSION}"
router = APIRouter(tags=["bcf-api"])
TOPIC_ACTIONS = ["update", "createComment", "createViewpoint", "delete"]


@router.get("/bcf/versions", response_model=BcfVersions)
def versions(request: Request) -> BcfVersions:
    """The BCF API versions this server speaks (public)."""
    base = str(request.base_url).rstrip("/")
    return BcfVersions(
        versions=[BcfVersion(version_id=BCF_VERSION, detailed_version=DETAILED_VERSION, api_base_url=f"{base}{PREFIX}")]
    )


@router.get(f"{PREFIX}/auth", response_model=BcfAuth)
def auth() -> BcfAuth:
    """How to authenticate (public): the platform's API tokens, no OAuth2 flow."""
    return BcfAuth(
        authorization_header="Authorization: Bearer <token>",
        credentials_url="/api/v1/tokens",
    )


def _writes(caller: Caller) -> bool:
    return BimScope.write.value in caller.scopes


def _project(caller: Caller, revision: DatasetRevision, dataset: Dataset) -> BcfProject:
    return BcfProject(
        project_id=revision.id,
        name=f"{dataset.name} · r{revision.number}",
        dataset_id=dataset.id,
        revision_number=revision.number,
        authorization=ProjectAuthorization(project_actions=["createTopic"] if _writes(caller) else []),
    )


@router.get(f"{PREFIX}/projects", response_model=list[BcfProject])
def list_projects(caller: CallerDep, session: SessionDep) -> list[BcfProject]:
    """The IFC revisions whose topics the caller may see, one BCF project each."""
    return [_project(caller, r, d) for r, d in topics.review_revisions(session, caller)]


@router.get(f"{PREFIX}/projects/{{project_id}}", response_model=BcfProject)
def get_project(project_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> BcfProject:
    return _project(caller, *topics.review_revision(session, caller, project_id))


def _topic(caller: Caller, topic: TopicRow) -> BcfTopic:
    return BcfTopic(
        guid=topic.id,
        topic_type=topic.topic_type,
        topic_status=topic.status,
        title=topic.title,
        priority=topic.priority,
        labels=list(topic.labels),
        creation_date=topic.created_at,
        creation_author=topic.author,
        modified_date=topic.modified_at,
        assigned_to=topic.assigned_to,
        description=topic.description,
        due_date=topic.due_date,
        authorization=TopicAuthorization(topic_actions=TOPIC_ACTIONS if _writes(caller) else []),
    )


def _topic_in(session: Session, caller: Caller, project_id: uuid.UUID, topic_guid: uuid.UUID) -> TopicRow:
    """A topic of the project (404 when it belongs to another project or is not visible)."""
    topics.review_revision(session, caller, project_id)
    topic = topics.get_topic(session, caller, topic_guid)
    if topic.revision_id != project_id:
        raise TopicNotFound(f"no BCF topic {topic_guid} in project {project_id}")
    return topic


def _values(body: BcfTopicWrite) -> dict[str, object]:
    values: dict[str, object] = {
        "title": body.title,
        "priority": body.priority,
        "labels": list(body.labels),
        "assigned_to": body.assigned_to,
        "description": body.description,
        "due_date": body.due_date,
    }
    if body.topic_type is not None:
        values["topic_type"] = body.topic_type
    if body.topic_status is not None:
        values["status"] = body.topic_status
    return values


@router.get(f"{PREFIX}/projects/{{project_id}}/topics", response_model=list[BcfTopic])
def list_topics(project_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> list[BcfTopic]:
    topics.review_revision(session, caller, project_id)
    return [_topic(caller, t) for t in topics.topics_of_revision(session, caller, project_id)]


@router.post(f"{PREFIX}/projects/{{project_id}}/topics", status_code=201, response_model=BcfTopic)
def create_topic(
    project_id: uuid.UUID,
    body: BcfTopicCreate,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> BcfTopic:
    """A topic on the project's revision; its GUID is the one sent, or a new one."""
    caller.require(BimScope.write)
    topics.review_revision(session, caller, project_id)
    topic = topics.create_topic(session, settings, caller, project_id, _values(body), elements=[], topic_id=body.guid)
    session.commit()
    response.headers["Location"] = f"{PREFIX}/projects/{project_id}/topics/{topic.id}"
    return _topic(caller, topic)


@router.get(f"{PREFIX}/projects/{{project_id}}/topics/{{topic_guid}}", response_model=BcfTopic)
def get_topic(project_id: uuid.UUID, topic_guid: uuid.UUID, caller: CallerDep, session: SessionDep) -> BcfTopic:
    return _topic(caller, _topic_in(session, caller, project_id, topic_guid))


@router.put(f"{PREFIX}/projects/{{project_id}}/topics/{{topic_guid}}", response_model=BcfTopic)
def put_topic(
    project_id: uuid.UUID, topic_guid: uuid.UUID, body: BcfTopicWrite, caller: CallerDep, session: SessionDep
) -> BcfTopic:
    """Replaces the topic's fields (type and status are kept when left out)."""
    caller.require(BimScope.write)
    _topic_in(session, caller, project_id, topic_guid)
    topic = topics.update_topic(session, caller, topic_guid, _values(body))
    session.commit()
    return _topic(caller, topic)


@router.delete(f"{PREFIX}/projects/{{project_id}}/topics/{{topic_guid}}", status_code=204, response_class=Response)
def delete_topic(project_id: uuid.UUID, topic_guid: uuid.UUID, caller: CallerDep, session: SessionDep) -> Response:
    """The topic with its comments and viewpoints."""
    caller.require(BimScope.write)
    _topic_in(session, caller, project_id, topic_guid)
    topics.delete_topic(session, caller, topic_guid)
    session.commit()
    return Response(status_code=204)


def _comment(comment: CommentRow) -> BcfComment:
    return BcfComment(
        guid=comment.id,
        date=comment.created_at,
        author=comment.author,
        comment=comment.text,
        topic_guid=comment.topic_id,
        viewpoint_guid=comment.viewpoint_id,
    )


COMMENTS = f"{PREFIX}/projects/{{project_id}}/topics/{{topic_guid}}/comments"


@router.get(COMMENTS, response_model=list[BcfComment])
def list_comments(
    project_id: uuid.UUID, topic_guid: uuid.UUID, caller: CallerDep, session: SessionDep
) -> list[BcfComment]:
    topic = _topic_in(session, caller, project_id, topic_guid)
    return [_comment(c) for c in topics.comments_of(session, topic.id)]


@router.post(COMMENTS, status_code=201, response_model=BcfComment)
def create_comment(
    project_id: uuid.UUID,
    topic_guid: uuid.UUID,
    body: BcfCommentCreate,
    caller: CallerDep,
    session: SessionDep,
) -> BcfComment:
    caller.require(BimScope.write)
    _topic_in(session, caller, project_id, topic_guid)
    comment = topics.add_comment(session, caller, topic_guid, body.comment, body.viewpoint_guid, body.guid)
    session.commit()
    return _comment(comment)


@router.get(COMMENTS + "/{comment_guid}", response_model=BcfComment)
def get_comment(
    project_id: uuid.UUID, topic_guid: uuid.UUID, comment_guid: uuid.UUID, caller: CallerDep, session: SessionDep
) -> BcfComment:
    topic = _topic_in(session, caller, project_id, topic_guid)
    comment = next((c for c in topics.comments_of(session, topic.id) if c.id == comment_guid), None)
    if comment is None:
        raise NotFound(f"no comment {comment_guid} on BCF topic {topic_guid}")
    return _comment(comment)


def _vector(values: bcf_files.Vector) -> dict[str, float]:
    x, y, z = values
    return {"x": float(x), "y": float(y), "z": float(z)}


def _components(viewpoint: ViewpointRow) -> ComponentsOut:
    return ComponentsOut(
        selection=[ComponentOut(ifc_guid=g) for g in viewpoint.selected],
        coloring=[
            ColoringOut(color=f"#{color}", components=[ComponentOut(ifc_guid=g) for g in guids])
            for color, guids in viewpoint.coloured.items()
        ],
    )


def _viewpoint(viewpoint: ViewpointRow) -> BcfViewpoint:
    camera = topics.model_camera(viewpoint)
    perspective, orthogonal = None, None
    if camera is not None:
        placed = {
            "camera_view_point": _vector(camera.position),
            "camera_direction": _vector(camera.direction),
            "camera_up_vector": _vector(camera.up),
            "aspect_ratio": camera.aspect_ratio,
        }
        if camera.view_to_world_scale is not None:
            orthogonal = OrthogonalCameraOut.model_validate(
                placed | {"view_to_world_scale": camera.view_to_world_scale}
            )
        else:
            perspective = PerspectiveCameraOut.model_validate(placed | {"field_of_view": camera.field_of_view})
    return BcfViewpoint(
        guid=viewpoint.id,
        perspective_camera=perspective,
        orthogonal_camera=orthogonal,
        snapshot=SnapshotOut.model_validate({"snapshot_type": viewpoint.snapshot_type})
        if viewpoint.snapshot_type
        else None,
        components=_components(viewpoint),
    )


def _snapshot(body: BcfViewpointCreate) -> bytes | None:
    if body.snapshot is None:
        return None
    text = body.snapshot.snapshot_data.strip()
    if text.startswith("data:") and "," in text:  # a data URL, as browsers make them
        text = text.split(",", 1)[1]
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("snapshot_data is not base64: send the image's bytes base64-encoded") from None
    return topics.snapshot_from(body.snapshot.snapshot_type, data)


def _viewpoint_input(body: BcfViewpointCreate) -> topics.ViewpointInput:
    camera = None
    if body.perspective_camera is not None:
        c = body.perspective_camera
        camera = bcf_files.Camera(
            position=(c.camera_view_point.x, c.camera_view_point.y, c.camera_view_point.z),
            direction=(c.camera_direction.x, c.camera_direction.y, c.camera_direction.z),
            up=(c.camera_up_vector.x, c.camera_up_vector.y, c.camera_up_vector.z),
            field_of_view=c.field_of_view,
            aspect_ratio=c.aspect_ratio,
        )
    elif body.orthogonal_camera is not None:
        o = body.orthogonal_camera
        camera = bcf_files.Camera(
            position=(o.camera_view_point.x, o.camera_view_point.y, o.camera_view_point.z),
            direction=(o.camera_direction.x, o.camera_direction.y, o.camera_direction.z),
            up=(o.camera_up_vector.x, o.camera_up_vector.y, o.camera_up_vector.z),
            aspect_ratio=o.aspect_ratio,
            view_to_world_scale=o.view_to_world_scale,
        )
    coloured: dict[str, list[str]] = {}
    for coloring in body.components.coloring:
        key = coloring.color.removeprefix("#").upper()
        coloured[key] = sorted(set(coloured.get(key, [])) | {c.ifc_guid for c in coloring.components})
    return topics.ViewpointInput(
        model_camera=camera,
        selected=sorted({c.ifc_guid for c in body.components.selection}),
        coloured=coloured,
        snapshot=_snapshot(body),
    )


VIEWPOINTS = f"{PREFIX}/projects/{{project_id}}/topics/{{topic_guid}}/viewpoints"


def _viewpoint_in(
    session: Session, caller: Caller, project_id: uuid.UUID, topic_guid: uuid.UUID, viewpoint_guid: uuid.UUID
) -> ViewpointRow:
    topic = _topic_in(session, caller, project_id, topic_guid)
    viewpoint = next((v for v in topics.viewpoints_of(session, topic.id) if v.id == viewpoint_guid), None)
    if viewpoint is None:
        raise NotFound(f"no viewpoint {viewpoint_guid} on BCF topic {topic_guid}")
    return viewpoint


@router.get(VIEWPOINTS, response_model=list[BcfViewpoint])
def list_viewpoints(
    project_id: uuid.UUID, topic_guid: uuid.UUID, caller: CallerDep, session: SessionDep
) -> list[BcfViewpoint]:
    topic = _topic_in(session, caller, project_id, topic_guid)
    return [_viewpoint(v) for v in topics.viewpoints_of(session, topic.id)]


@router.post(VIEWPOINTS, status_code=201, response_model=BcfViewpoint)
def create_viewpoint(
    project_id: uuid.UUID,
    topic_guid: uuid.UUID,
    body: BcfViewpointCreate,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
) -> BcfViewpoint:
    """A perspective or an orthogonal camera (one is required) in the model's engineering coordinates,
    components by IFC GlobalId, and a snapshot (PNG or JPEG, base64; at most 5 MiB, else 413)."""
    caller.require(BimScope.write)
    _topic_in(session, caller, project_id, topic_guid)
    if body.perspective_camera is None and body.orthogonal_camera is None:
        raise InvalidInput("a viewpoint needs a perspective_camera or an orthogonal_camera (BCF 3.0 requires one)")
    viewpoint = topics.add_viewpoint(session, settings, caller, topic_guid, _viewpoint_input(body), body.guid)
    session.commit()
    return _viewpoint(viewpoint)


@router.get(VIEWPOINTS + "/{viewpoint_guid}", response_model=BcfViewpoint)
def get_viewpoint(
    project_id: uuid.UUID, topic_guid: uuid.UUID, viewpoint_guid: uuid.UUID, caller: CallerDep, session: SessionDep
) -> BcfViewpoint:
    return _viewpoint(_viewpoint_in(session, caller, project_id, topic_guid, viewpoint_guid))


@router.get(VIEWPOINTS + "/{viewpoint_guid}/selection", response_model=BcfSelection)
def get_selection(
    project_id: uuid.UUID, topic_guid: uuid.UUID, viewpoint_guid: uuid.UUID, caller: CallerDep, session: SessionDep
) -> BcfSelection:
    viewpoint = _viewpoint_in(session, caller, project_id, topic_guid, viewpoint_guid)
    return BcfSelection(selection=_components(viewpoint).selection)


@router.get(VIEWPOINTS + "/{viewpoint_guid}/coloring", response_model=BcfColoring)
def get_coloring(
    project_id: uuid.UUID, topic_guid: uuid.UUID, viewpoint_guid: uuid.UUID, caller: CallerDep, session: SessionDep
) -> BcfColoring:
    viewpoint = _viewpoint_in(session, caller, project_id, topic_guid, viewpoint_guid)
    return BcfColoring(coloring=_components(viewpoint).coloring)


@router.get(
    VIEWPOINTS + "/{viewpoint_guid}/snapshot",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/jpeg": {}}, "description": "The viewpoint's snapshot"}},
)
def get_snapshot(
    project_id: uuid.UUID, topic_guid: uuid.UUID, viewpoint_guid: uuid.UUID, caller: CallerDep, session: SessionDep
) -> Response:
    """The snapshot image as stored (404 when the viewpoint has none)."""
    viewpoint = _viewpoint_in(session, caller, project_id, topic_guid, viewpoint_guid)
    if viewpoint.snapshot_type is None or viewpoint.snapshot is None:
        raise NotFound(f"viewpoint {viewpoint_guid} has no snapshot")
    return Response(viewpoint.snapshot, media_type=bcf_files.SNAPSHOT_MEDIA_TYPES[viewpoint.snapshot_type])

"""BCF topics on IFC revisions: created from the portal (an element clicked in the 3D city, the camera
of the globe converted to the model's engineering coordinates) or imported from BCF-XML; comments
and viewpoints. Design institutes see their own models' topics, officials all."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.bim_review import bcf_files
from cim_platform.bim_review.checks import visible_dataset, visible_revision
from cim_platform.bim_review.errors import RequirementsNotFound, TopicNotFound
from cim_platform.bim_review.models import BcfComment, BcfTopic, BcfViewpoint
from cim_platform.bim_review.scopes import BimScope
from cim_platform.bim_review.viewpoints import EngineeringFrame, GlobeCamera, engineering_frame
from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput, PayloadTooLarge
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import Dataset, DatasetKind, DatasetRevision
from cim_platform.datasets.sources import source_path

TOPIC_FIELDS = ("title", "topic_type", "status", "priority", "assigned_to", "due_date", "labels", "description")


@dataclass
class ViewpointInput:
    globe_camera: GlobeCamera | None = None
    model_camera: bcf_files.Camera | None = None
    selected: list[str] = field(default_factory=list)
    coloured: dict[str, list[str]] = field(default_factory=dict)
    snapshot: bytes | None = None
    """A PNG or JPEG image, checked by ``snapshot_from``."""


def snapshot_from(declared: str, data: bytes) -> bytes:
    """A viewpoint's snapshot as sent: a PNG or JPEG (by its magic bytes, matching the declared type) of
    at most ``MAX_SNAPSHOT_BYTES``; ``InvalidInput`` or ``PayloadTooLarge`` saying what is wrong otherwise."""
    limit = bcf_files.MAX_SNAPSHOT_BYTES
    if len(data) > limit:
        raise PayloadTooLarge(
            f"the snapshot is {len(data) // 1024} KiB; at most {limit // 1024} KiB: send a smaller image",
            params={"max_kib": limit // 1024},
        )
    found = bcf_files.snapshot_type(data)
    if found is None:
        raise InvalidInput("the snapshot is neither a PNG nor a JPEG image (by its first bytes): send png or jpg")
    if found != declared:
        raise InvalidInput(f"snapshot_type says {declared} but the image is a {found.upper()}: correct snapshot_type")
    return data


def frame_of(settings: Settings, revision: DatasetRevision) -> EngineeringFrame:
    try:
        return engineering_frame(source_path(settings, revision.source_path), dict(revision.convert_params or {}))
    except Exception as error:
        raise InvalidInput(f"the model's georeferencing cannot be read: {str(error).splitlines()[0]}") from None


def _author(caller: Caller) -> str:
    return caller.username or "unknown"


def _store_viewpoint(
    session: Session,
    settings: Settings,
    topic: BcfTopic,
    revision: DatasetRevision,
    view: ViewpointInput,
    viewpoint_id: uuid.UUID | None = None,
) -> BcfViewpoint:
    camera = view.model_camera
    if camera is None and view.globe_camera is not None:
        camera = frame_of(settings, revision).camera_to_model(view.globe_camera)
    viewpoint = BcfViewpoint(
        id=viewpoint_id or uuid.uuid4(),
        topic_id=topic.id,
        camera=camera.__dict__ if camera is not None else None,
        selected=list(view.selected),
        coloured={k: list(v) for k, v in view.coloured.items()},
        snapshot=view.snapshot,
        snapshot_type=bcf_files.snapshot_type(view.snapshot) if view.snapshot else None,
        created_at=utcnow(),
    )
    session.add(viewpoint)
    return viewpoint


def create_topic(
    session: Session,
    settings: Settings,
    caller: Caller,
    revision_id: uuid.UUID,
    values: dict[str, Any],
    *,
    elements: list[str],
    viewpoint: ViewpointInput | None = None,
    topic_id: uuid.UUID | None = None,
    author: str | None = None,
    created_at: datetime | None = None,
) -> BcfTopic:
    caller.require(BimScope.write)
    revision = visible_revision(session, caller, revision_id)
    if topic_id is not None and session.get(BcfTopic, topic_id) is not None:
        raise Conflict(f"a BCF topic {topic_id} exists already: update it with PUT, or leave out its guid")
    topic = BcfTopic(
        id=topic_id or uuid.uuid4(),
        dataset_id=revision.dataset_id,
        revision_id=revision.id,
        elements=sorted(set(elements)),
        author=author or _author(caller),
        created_by=caller.user_id,
        created_at=created_at or utcnow(),
        **{k: values[k] for k in TOPIC_FIELDS if k in values},
    )
    topic.labels = list(topic.labels or [])
    topic.description = topic.description or ""
    topic.topic_type = topic.topic_type or "Issue"
    topic.status = topic.status or "Open"
    session.add(topic)
    session.flush()
    if viewpoint is not None:
        _store_viewpoint(session, settings, topic, revision, viewpoint)
    record_change(
        session,
        caller,
        action="bcf_topic.created",
        object_type="bcf_topic",
        object_id=str(topic.id),
        before=None,
        after={"title": topic.title, "revision_id": str(revision.id), "elements": topic.elements},
    )
    session.flush()
    return topic


def get_topic(session: Session, caller: Caller, topic_id: uuid.UUID) -> BcfTopic:
    topic = session.get(BcfTopic, topic_id)
    if topic is None:
        raise TopicNotFound(f"no BCF topic {topic_id}")
    visible_dataset(session, caller, topic.dataset_id)
    return topic


def update_topic(session: Session, caller: Caller, topic_id: uuid.UUID, changes: dict[str, Any]) -> BcfTopic:
    caller.require(BimScope.write)
    topic = get_topic(session, caller, topic_id)
    before = {k: str(getattr(topic, k)) for k in changes}
    for key, value in changes.items():
        if key in TOPIC_FIELDS:
            setattr(topic, key, value)
    topic.modified_at = utcnow()
    session.flush()
    record_change(
        session,
        caller,
        action="bcf_topic.updated",
        object_type="bcf_topic",
        object_id=str(topic.id),
        before=before,
        after={k: str(getattr(topic, k)) for k in changes},
    )
    return topic


def delete_topic(session: Session, caller: Caller, topic_id: uuid.UUID) -> None:
    """A topic with its comments and viewpoints (the database cascades)."""
    caller.require(BimScope.write)
    topic = get_topic(session, caller, topic_id)
    record_change(
        session,
        caller,
        action="bcf_topic.deleted",
        object_type="bcf_topic",
        object_id=str(topic.id),
        before={"title": topic.title, "revision_id": str(topic.revision_id), "elements": topic.elements},
        after=None,
    )
    session.delete(topic)
    session.flush()


def review_revisions(session: Session, caller: Caller) -> list[tuple[DatasetRevision, Dataset]]:
    """The IFC revisions whose topics the caller may see (design institutes: their own models; officials all)."""
    caller.require(BimScope.read)
    query = (
        select(DatasetRevision, Dataset)
        .join(Dataset, Dataset.id == DatasetRevision.dataset_id)
        .where(Dataset.kind == DatasetKind.ifc.value)
        .order_by(Dataset.name, Dataset.id, DatasetRevision.number)
    )
    if not caller.reads_everything():
        query = query.where(Dataset.organization_id == caller.organization_id)
    return [(revision, dataset) for revision, dataset in session.execute(query).all()]


def review_revision(session: Session, caller: Caller, revision_id: uuid.UUID) -> tuple[DatasetRevision, Dataset]:
    """One IFC revision the caller may review (``RequirementsNotFound`` otherwise, as for the other routes)."""
    revision = visible_revision(session, caller, revision_id)
    dataset = session.get(Dataset, revision.dataset_id)
    if dataset is None or dataset.kind != DatasetKind.ifc.value:
        raise RequirementsNotFound(f"no IFC revision {revision_id} among the models you review")
    return revision, dataset


def topics_of_revision(session: Session, caller: Caller, revision_id: uuid.UUID) -> list[BcfTopic]:
    revision = visible_revision(session, caller, revision_id)
    return list(
        session.scalars(select(BcfTopic).where(BcfTopic.revision_id == revision.id).order_by(BcfTopic.created_at))
    )


def topics_of_dataset(session: Session, caller: Caller, dataset_id: uuid.UUID) -> list[BcfTopic]:
    visible_dataset(session, caller, dataset_id)
    return list(
        session.scalars(select(BcfTopic).where(BcfTopic.dataset_id == dataset_id).order_by(BcfTopic.created_at))
    )


def add_comment(
    session: Session,
    caller: Caller,
    topic_id: uuid.UUID,
    text: str,
    viewpoint_id: uuid.UUID | None = None,
    comment_id: uuid.UUID | None = None,
) -> BcfComment:
    caller.require(BimScope.write)
    topic = get_topic(session, caller, topic_id)
    if viewpoint_id is not None and viewpoint_id not in {v.id for v in viewpoints_of(session, topic.id)}:
        raise InvalidInput("the comment's viewpoint belongs to another topic")
    if comment_id is not None and session.get(BcfComment, comment_id) is not None:
        raise Conflict(f"a BCF comment {comment_id} exists already: leave out its guid to get a new one")
    comment = BcfComment(
        id=comment_id or uuid.uuid4(),
        topic_id=topic.id,
        author=_author(caller),
        text=text,
        viewpoint_id=viewpoint_id,
        created_by=caller.user_id,
        created_at=utcnow(),
    )
    session.add(comment)
    topic.modified_at = comment.created_at
    session.flush()
    return comment


def add_viewpoint(
    session: Session,
    settings: Settings,
    caller: Caller,
    topic_id: uuid.UUID,
    view: ViewpointInput,
    viewpoint_id: uuid.UUID | None = None,
) -> BcfViewpoint:
    caller.require(BimScope.write)
    topic = get_topic(session, caller, topic_id)
    revision = session.get(DatasetRevision, topic.revision_id)
    assert revision is not None
    if viewpoint_id is not None and session.get(BcfViewpoint, viewpoint_id) is not None:
        raise Conflict(f"a BCF viewpoint {viewpoint_id} exists already: leave out its guid to get a new one")
    viewpoint = _store_viewpoint(session, settings, topic, revision, view, viewpoint_id)
    topic.elements = sorted(set(topic.elements) | set(view.selected))
    session.flush()
    return viewpoint


def comments_of(session: Session, topic_id: uuid.UUID) -> list[BcfComment]:
    return list(
        session.scalars(select(BcfComment).where(BcfComment.topic_id == topic_id).order_by(BcfComment.created_at))
    )


def viewpoints_of(session: Session, topic_id: uuid.UUID) -> list[BcfViewpoint]:
    return list(
        session.scalars(select(BcfViewpoint).where(BcfViewpoint.topic_id == topic_id).order_by(BcfViewpoint.created_at))
    )


def model_camera(viewpoint: BcfViewpoint) -> bcf_files.Camera | None:
    if not viewpoint.camera:
        return None
    c = viewpoint.camera
    return bcf_files.Camera(
        position=tuple(c["position"]),
        direction=tuple(c["direction"]),
        up=tuple(c["up"]),
        field_of_view=float(c.get("field_of_view", 60.0)),
        aspect_ratio=float(c.get("aspect_ratio", 1.0)),
        view_to_world_scale=float(c["view_to_world_scale"]) if c.get("view_to_world_scale") is not None else None,
    )

"""BCF-XML in and out of the platform: a revision's topics exported (3.0 or 2.1) and BCF files of BIM
tools imported to the same topics (same GUIDs: updated, not duplicated); the IDS failures of a
revision as BCF topics in one step."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

import ifcopenshell
import ifcopenshell.util.placement
import ifcopenshell.util.unit
import numpy as np
from sqlalchemy.orm import Session

from cim_platform.bim_review import bcf_files, topics
from cim_platform.bim_review.checks import checks_of, visible_revision
from cim_platform.bim_review.ids_check import open_model
from cim_platform.bim_review.models import BcfComment, BcfTopic, BcfViewpoint
from cim_platform.bim_review.scopes import BimScope
from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import CimError
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import Dataset, DatasetRevision
from cim_platform.datasets.sources import source_path

FAILURE_COLOUR = "E53935"
MAX_BCF_BYTES = 64 * 1024 * 1024


def as_bcf_topic(session: Session, topic: BcfTopic) -> bcf_files.Topic:
    viewpoints = [
        bcf_files.Viewpoint(
            guid=str(v.id),
            camera=topics.model_camera(v),
            selected=list(v.selected),
            coloured=dict(v.coloured),
            snapshot=v.snapshot if v.snapshot_type else None,
        )
        for v in topics.viewpoints_of(session, topic.id)
    ]
    return bcf_files.Topic(
        guid=str(topic.id),
        title=topic.title,
        author=topic.author,
        created_at=topic.created_at,
        topic_type=topic.topic_type,
        status=topic.status,
        priority=topic.priority,
        assigned_to=topic.assigned_to,
        due_date=topic.due_date,
        labels=list(topic.labels),
        description=topic.description,
        comments=[
            bcf_files.Comment(
                guid=str(c.id),
                text=c.text,
                author=c.author,
                date=c.created_at,
                viewpoint_guid=str(c.viewpoint_id) if c.viewpoint_id else None,
            )
            for c in topics.comments_of(session, topic.id)
        ],
        viewpoints=viewpoints,
    )


def export_revision(
    session: Session,
    caller: Caller,
    revision_id: uuid.UUID,
    version: bcf_files.BcfVersion,
    settings: Settings | None = None,
) -> tuple[str, bytes]:
    """The revision's topics as BCF-XML. BCF 3.0 requires a camera in every viewpoint: one stored without
    (components only) gets a camera looking at its first selected element (with ``settings``: the model
    is opened only then)."""
    revision = visible_revision(session, caller, revision_id)
    dataset = session.get(Dataset, revision.dataset_id)
    assert dataset is not None
    items = [as_bcf_topic(session, t) for t in topics.topics_of_revision(session, caller, revision_id)]
    without_camera = [v for t in items for v in t.viewpoints if v.camera is None]
    if without_camera and settings is not None:
        try:
            model = open_model(source_path(settings, revision.source_path), shown_as=revision.source_filename)
        except CimError:
            without_camera = []  # the source is unreadable: the viewpoints go without a camera, as stored
        for viewpoint in without_camera:
            shown = viewpoint.selected or sorted({g for guids in viewpoint.coloured.values() for g in guids})
            viewpoint.camera = _look_at(model, shown)
    name = f"{dataset.name} r{revision.number}"
    return name, bcf_files.bcf_bytes(items, version=version, project_name=name)


def import_bcf(session: Session, caller: Caller, revision_id: uuid.UUID, data: bytes) -> list[BcfTopic]:
    """Topics of a BCF file onto a revision: a topic already here (same GUID) gets the file's fields,
    comments and viewpoints it lacks; others are created. Cameras stay in model coordinates."""
    caller.require(BimScope.write)
    revision = visible_revision(session, caller, revision_id)
    with tempfile.TemporaryDirectory(prefix="cim-bcf-") as folder:
        path = Path(folder) / "upload.bcf"
        path.write_bytes(data)
        _, incoming = bcf_files.read_bcf(path)
    landed = []
    for item in incoming:
        topic_id = uuid.UUID(item.guid)
        existing = session.get(BcfTopic, topic_id)
        if existing is not None and existing.dataset_id != revision.dataset_id:
            topic_id = uuid.uuid4()  # the GUID belongs to another model's topic: keep both
            existing = None
        values = {
            "title": item.title,
            "topic_type": item.topic_type,
            "status": item.status,
            "priority": item.priority,
            "assigned_to": item.assigned_to,
            "due_date": item.due_date,
            "labels": item.labels,
            "description": item.description,
        }
        if existing is None:
            topic = BcfTopic(
                id=topic_id,
                dataset_id=revision.dataset_id,
                revision_id=revision.id,
                author=item.author,
                created_by=caller.user_id,
                created_at=item.created_at,
                elements=item.elements,
                **values,
            )
            session.add(topic)
        else:
            topic = existing
            for key, value in values.items():
                setattr(topic, key, value)
            topic.elements = sorted(set(topic.elements) | set(item.elements))
            topic.modified_at = utcnow()
        session.flush()
        known_viewpoints = {v.id for v in topics.viewpoints_of(session, topic.id)}
        for view in item.viewpoints:
            if uuid.UUID(view.guid) not in known_viewpoints:
                session.add(
                    BcfViewpoint(
                        id=uuid.UUID(view.guid)
                        if session.get(BcfViewpoint, uuid.UUID(view.guid)) is None
                        else uuid.uuid4(),
                        topic_id=topic.id,
                        camera=view.camera.__dict__ if view.camera else None,
                        selected=view.selected,
                        coloured=view.coloured,
                        snapshot=view.snapshot,
                        snapshot_type=bcf_files.snapshot_type(view.snapshot) if view.snapshot else None,
                        created_at=utcnow(),
                    )
                )
        known_comments = {c.id for c in topics.comments_of(session, topic.id)}
        for comment in item.comments:
            if (
                uuid.UUID(comment.guid) not in known_comments
                and session.get(BcfComment, uuid.UUID(comment.guid)) is None
            ):
                session.add(
                    BcfComment(
                        id=uuid.UUID(comment.guid),
                        topic_id=topic.id,
                        author=comment.author,
                        text=comment.text,
                        viewpoint_id=uuid.UUID(comment.viewpoint_guid) if comment.viewpoint_guid else None,
                        created_by=caller.user_id,
                        created_at=comment.date,
                    )
                )
        session.flush()
        landed.append(topic)
    record_change(
        session,
        caller,
        action="bcf.imported",
        object_type="dataset_revision",
        object_id=str(revision.id),
        before=None,
        after={"topics": [str(t.id) for t in landed]},
    )
    return landed


def _look_at(model: ifcopenshell.file, global_ids: list[str]) -> bcf_files.Camera:
    """A camera looking down at the first element that has a placement (from 15 m south-west, 12 m up)."""
    target = np.zeros(3)
    for global_id in global_ids:
        try:
            element = model.by_guid(global_id)
        except RuntimeError:
            continue
        if getattr(element, "ObjectPlacement", None) is not None:
            scale = float(ifcopenshell.util.unit.calculate_unit_scale(model))
            target = ifcopenshell.util.placement.get_local_placement(element.ObjectPlacement)[:3, 3] * scale
            break
    position = target + np.array([-15.0, -15.0, 12.0])
    direction = (target - position) / np.linalg.norm(target - position)
    right = np.cross(direction, [0.0, 0.0, 1.0])
    up = np.cross(right, direction)
    up = up / np.linalg.norm(up)
    return bcf_files.Camera(
        position=tuple(float(v) for v in position),  # type: ignore[arg-type]
        direction=tuple(float(v) for v in direction),  # type: ignore[arg-type]
        up=tuple(float(v) for v in up),  # type: ignore[arg-type]
    )


def ids_failures_as_bcf(
    session: Session, settings: Settings, caller: Caller, revision_id: uuid.UUID, version: bcf_files.BcfVersion
) -> tuple[str, bytes]:
    """One BCF topic per failing IDS requirement, its failing elements selected and coloured."""
    caller.require(BimScope.read)
    revision: DatasetRevision = visible_revision(session, caller, revision_id)
    model = open_model(source_path(settings, revision.source_path), shown_as=revision.source_filename)
    items = []
    for check, ids_version, document in checks_of(session, caller, revision_id):
        for spec in (check.result or {}).get("specifications", []):
            for requirement in spec["requirements"]:
                failing = [f["global_id"] for f in requirement["failures"] if f["global_id"]]
                if not failing:
                    continue
                lines = [
                    f"{f['ifc_class']} {f['name'] or f['global_id']}: {f['reason']}" for f in requirement["failures"]
                ]
                items.append(
                    bcf_files.Topic(
                        title=f"IDS: {spec['name']} — {requirement['description']}"[:400],
                        author="cim-platform",
                        created_at=check.checked_at or utcnow(),
                        topic_type="Error",
                        status="Open",
                        labels=["IDS", document.name[:90]],
                        description=f"{document.name} v{ids_version.number}\n" + "\n".join(lines),
                        viewpoints=[
                            bcf_files.Viewpoint(
                                camera=_look_at(model, failing), selected=failing, coloured={FAILURE_COLOUR: failing}
                            )
                        ],
                    )
                )
    return f"ids-failures-r{revision.number}", bcf_files.bcf_bytes(items, version=version, project_name="IDS")

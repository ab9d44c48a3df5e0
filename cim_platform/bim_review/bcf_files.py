"""BCF-XML files (3.0, and 2.1 where asked) written and read with bcf-client, no database.

A topic's elements travel as the selected components of its viewpoints (as BIM tools read them);
cameras (perspective or orthogonal) are in the model's engineering coordinates (metres), as BCF defines
them; a viewpoint's snapshot is a PNG or JPEG file in the topic's folder (``snapshot.png`` for the first)."""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import bcf.bcfxml
import bcf.v2.bcfxml
import bcf.v2.model as v2
import bcf.v2.visinfo
import bcf.v3.bcfxml
import bcf.v3.model as v3
import bcf.v3.visinfo
from xsdata.models.datatype import XmlDateTime

from cim_platform.bim_review.errors import BcfUnreadable

BcfVersion = Literal["3.0", "2.1"]
SnapshotType = Literal["png", "jpg"]
Vector = tuple[float, float, float]
MAX_SNAPSHOT_BYTES = 5 * 1024 * 1024
SNAPSHOT_MAGIC: dict[SnapshotType, bytes] = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff"}
SNAPSHOT_MEDIA_TYPES: dict[str, str] = {"png": "image/png", "jpg": "image/jpeg"}


def snapshot_type(data: bytes) -> SnapshotType | None:
    """``png`` or ``jpg`` by the image's magic bytes (what a file says it is does not count)."""
    for kind, magic in SNAPSHOT_MAGIC.items():
        if data.startswith(magic):
            return kind
    return None


@dataclass
class Camera:
    """Perspective (``field_of_view``, degrees), or orthogonal when ``view_to_world_scale`` is set (the
    view's visible vertical size in metres; the field of view then means nothing)."""

    position: Vector
    direction: Vector
    up: Vector
    field_of_view: float = 60.0
    aspect_ratio: float = 1.0
    view_to_world_scale: float | None = None

    @property
    def orthogonal(self) -> bool:
        return self.view_to_world_scale is not None


@dataclass
class Viewpoint:
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    camera: Camera | None = None
    selected: list[str] = field(default_factory=list)
    coloured: dict[str, list[str]] = field(default_factory=dict)
    """Colour (``RRGGBB``) → GlobalIds."""
    snapshot: bytes | None = None
    """A PNG or JPEG image of the view."""


@dataclass
class Comment:
    text: str
    author: str
    date: datetime
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    viewpoint_guid: str | None = None


@dataclass
class Topic:
    title: str
    author: str
    created_at: datetime
    guid: str = field(default_factory=lambda: str(uuid.uuid4()))
    topic_type: str = ""
    status: str = ""
    priority: str | None = None
    assigned_to: str | None = None
    due_date: datetime | None = None
    labels: list[str] = field(default_factory=list)
    description: str = ""
    comments: list[Comment] = field(default_factory=list)
    viewpoints: list[Viewpoint] = field(default_factory=list)

    @property
    def elements(self) -> list[str]:
        return sorted({g for v in self.viewpoints for g in v.selected})


def _xml_date(value: datetime) -> XmlDateTime:
    return XmlDateTime.from_datetime(value if value.tzinfo else value.replace(tzinfo=UTC))


def _date(value: Any) -> datetime | None:
    if value is None:
        return None
    moment: datetime = value.to_datetime()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _xyz(vector: Vector) -> dict[str, float]:
    return {"x": vector[0], "y": vector[1], "z": vector[2]}


def _visinfo(model: Any, viewpoint: Viewpoint) -> Any:
    selection = model.ComponentSelection(component=[model.Component(ifc_guid=g) for g in viewpoint.selected])
    coloring = (
        model.ComponentColoring(
            color=[_colour(model, colour, guids) for colour, guids in sorted(viewpoint.coloured.items())]
        )
        if viewpoint.coloured
        else None
    )
    components = model.Components(
        selection=selection if viewpoint.selected else None,
        visibility=model.ComponentVisibility(default_visibility=True),
        coloring=coloring,
    )
    cameras: dict[str, Any] = {}
    if viewpoint.camera is not None:
        c = viewpoint.camera
        extra = {"aspect_ratio": c.aspect_ratio} if model is v3 else {}  # BCF 2.1 has no aspect ratio
        placed = {
            "camera_view_point": model.Point(**_xyz(c.position)),
            "camera_direction": model.Direction(**_xyz(c.direction)),
            "camera_up_vector": model.Direction(**_xyz(c.up)),
        }
        if c.view_to_world_scale is not None:
            cameras["orthogonal_camera"] = model.OrthogonalCamera(
                **placed, view_to_world_scale=c.view_to_world_scale, **extra
            )
        else:
            cameras["perspective_camera"] = model.PerspectiveCamera(**placed, field_of_view=c.field_of_view, **extra)
    return model.VisualizationInfo(guid=viewpoint.guid, components=components, **cameras)


def _snapshot_names(topic: Topic) -> dict[str, str]:
    """Viewpoint GUID → snapshot file name in the topic's folder: ``snapshot.png`` (or ``.jpg``) for the
    first viewpoint with one, ``snapshot-<guid>.png`` for the others."""
    names: dict[str, str] = {}
    for viewpoint in topic.viewpoints:
        kind = snapshot_type(viewpoint.snapshot) if viewpoint.snapshot else None
        if kind is not None:
            names[viewpoint.guid] = f"snapshot.{kind}" if not names else f"snapshot-{viewpoint.guid}.{kind}"
    return names


def _colour(model: Any, colour: str, guids: list[str]) -> Any:
    components = [model.Component(ifc_guid=g) for g in guids]
    if model is v3:
        return v3.ComponentColoringColor(
            color=colour, components=v3.ComponentColoringColorComponents(component=components)
        )
    return v2.ComponentColoringColor(color=colour, component=components)


def _comment(model: Any, comment: Comment) -> Any:
    return model.Comment(
        guid=comment.guid,
        date=_xml_date(comment.date),
        author=comment.author,
        comment=comment.text or None,
        viewpoint=model.CommentViewpoint(guid=comment.viewpoint_guid) if comment.viewpoint_guid else None,
    )


def write_bcf(topics: list[Topic], path: Path, *, version: BcfVersion = "3.0", project_name: str = "") -> Path:
    model: Any = v3 if version == "3.0" else v2
    document: Any = (bcf.v3.bcfxml.BcfXml if version == "3.0" else bcf.v2.bcfxml.BcfXml).create_new(project_name)
    handler_module: Any = bcf.v3.visinfo if version == "3.0" else bcf.v2.visinfo
    for index, topic in enumerate(topics):
        handler = document.add_topic(
            topic.title, topic.description, topic.author, topic.topic_type or "Issue", topic.status or "Open"
        )
        markup_topic = handler.topic
        handler.markup.topic.guid = topic.guid
        document.topics[topic.guid] = document.topics.pop(next(k for k, v in document.topics.items() if v is handler))
        handler._topic_dir = Path(topic.guid)
        markup_topic.creation_date = _xml_date(topic.created_at)
        markup_topic.description = topic.description or None  # BCF 3.0: no empty strings
        markup_topic.priority = topic.priority or None
        markup_topic.assigned_to = topic.assigned_to or None
        markup_topic.due_date = _xml_date(topic.due_date) if topic.due_date else None
        markup_topic.index = index
        markup_topic.labels = (
            v3.TopicLabels(label=list(topic.labels))
            if version == "3.0" and topic.labels
            else (list(topic.labels) if version == "2.1" else None)
        )
        snapshots = _snapshot_names(topic)
        for viewpoint in topic.viewpoints:
            name = snapshots.get(viewpoint.guid)
            visinfo = handler_module.VisualizationInfoHandler(
                _visinfo(model, viewpoint), snapshot=viewpoint.snapshot if name else None
            )
            handler.add_visinfo_handler(visinfo, name)
        handler.comments = [_comment(model, c) for c in topic.comments]
    document.save(path)
    return path


def _vector(value: Any) -> Vector:
    return (float(value.x), float(value.y), float(value.z))


def _placed(camera: Any) -> dict[str, Any]:
    return {
        "position": _vector(camera.camera_view_point),
        "direction": _vector(camera.camera_direction),
        "up": _vector(camera.camera_up_vector),
        "aspect_ratio": float(getattr(camera, "aspect_ratio", 1.0) or 1.0),
    }


def _viewpoint(info: Any, snapshot: bytes | None) -> Viewpoint:
    components = info.components
    selected = (
        [c.ifc_guid for c in components.selection.component if c.ifc_guid]
        if components is not None and components.selection is not None
        else []
    )
    coloured: dict[str, list[str]] = {}
    if components is not None and components.coloring is not None:
        for colour in components.coloring.color:
            members = colour.components.component if hasattr(colour, "components") else colour.component
            coloured[str(colour.color)] = [c.ifc_guid for c in members if c.ifc_guid]
    camera = None
    if info.perspective_camera is not None:
        p = info.perspective_camera
        camera = Camera(**_placed(p), field_of_view=float(p.field_of_view))
    elif info.orthogonal_camera is not None:
        o = info.orthogonal_camera
        camera = Camera(**_placed(o), view_to_world_scale=float(o.view_to_world_scale))
    # a snapshot that is no PNG or JPEG, or too large, is left out (the viewpoint itself is kept)
    if snapshot is not None and (snapshot_type(snapshot) is None or len(snapshot) > MAX_SNAPSHOT_BYTES):
        snapshot = None
    return Viewpoint(guid=str(info.guid), camera=camera, selected=selected, coloured=coloured, snapshot=snapshot)


def read_bcf(path: Path) -> tuple[str, list[Topic]]:
    """The BCF version (``3.0`` or ``2.1``) and its topics; ``BcfUnreadable`` for anything else."""
    try:
        document: Any = bcf.bcfxml.load(path)
    except Exception as error:
        raise BcfUnreadable(
            f"not a readable BCF-XML file: {str(error).splitlines()[0] if str(error) else type(error).__name__}"
        ) from None
    if document is None:
        raise BcfUnreadable("not a readable BCF-XML file")
    version = "3.0" if isinstance(document, bcf.v3.bcfxml.BcfXml) else "2.1"
    topics = []
    try:
        for handler in document.topics.values():
            t = handler.topic
            labels = t.labels.label if version == "3.0" and t.labels is not None else list(t.labels or [])
            topics.append(
                Topic(
                    guid=str(t.guid),
                    title=str(t.title),
                    author=str(t.creation_author),
                    created_at=_date(t.creation_date) or datetime.now(UTC),
                    topic_type=str(t.topic_type or ""),
                    status=str(t.topic_status or ""),
                    priority=t.priority,
                    assigned_to=t.assigned_to,
                    due_date=_date(t.due_date),
                    labels=[str(label) for label in labels],
                    description=str(t.description or ""),
                    comments=[
                        Comment(
                            guid=str(c.guid),
                            text=str(c.comment or ""),
                            author=str(c.author),
                            date=_date(c.date) or datetime.now(UTC),
                            viewpoint_guid=c.viewpoint.guid if c.viewpoint is not None else None,
                        )
                        for c in handler.comments
                    ],
                    viewpoints=[_viewpoint(v.visualization_info, v.snapshot) for v in handler.viewpoints.values()],
                )
            )
    finally:
        document.close()
    return version, topics


def bcf_bytes(topics: list[Topic], *, version: BcfVersion = "3.0", project_name: str = "") -> bytes:
    with tempfile.TemporaryDirectory(prefix="cim-bcf-") as folder:
        path = write_bcf(topics, Path(folder) / "topics.bcf", version=version, project_name=project_name)
        return path.read_bytes()

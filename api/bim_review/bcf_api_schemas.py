"""Bodies of the BCF REST API 3.0 subset (buildingSMART BCF-API, release 3.0): the specification's
snake_case field names. Fields a BIM tool may send that the platform does not keep (reference links,
stage, BIM snippets, lines, clipping planes, bitmaps) are accepted and left out. Viewpoints keep a
perspective or an orthogonal camera and a snapshot (PNG or JPEG)."""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

BCF_VERSION = "3.0"
DETAILED_VERSION = "https://github.com/buildingSMART/BCF-API/tree/release_3_0"
IFC_GUID_PATTERN = r"^[0-9A-Za-z_$]{22}$"
COLOR_PATTERN = r"^#?([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$"
MAX_SNAPSHOT_CHARS = 8 * 1024 * 1024  # base64 of a little more than the 5 MiB the image may have (413 beyond)


class BcfVersion(BaseModel):
    api_id: str = "bcf"
    version_id: str
    detailed_version: str
    api_base_url: str


class BcfVersions(BaseModel):
    versions: list[BcfVersion]


class BcfAuth(BaseModel):
    """The platform authenticates with its own API tokens: no OAuth2 flow (the OAuth2 fields are null)."""

    oauth2_auth_url: str | None = None
    oauth2_token_url: str | None = None
    oauth2_dynamic_client_reg_url: str | None = None
    http_basic_supported: bool = False
    supported_oauth2_flows: list[str] = Field(default_factory=list)
    authorization_header: str = Field(description="how to authenticate: the header every request carries")
    credentials_url: str = Field(description="where a signed-in user creates an API token for a BIM tool")


class ProjectAuthorization(BaseModel):
    project_actions: list[str]


class BcfProject(BaseModel):
    """A BCF project is one IFC revision of a dataset: its id is the revision's id (never changes)."""

    project_id: uuid.UUID
    name: str
    dataset_id: uuid.UUID = Field(description="platform extension: the dataset the revision belongs to")
    revision_number: int = Field(description="platform extension: the revision's number within its dataset")
    authorization: ProjectAuthorization


class TopicAuthorization(BaseModel):
    topic_actions: list[str]
    topic_status: list[str] | None = None


class BcfTopic(BaseModel):
    guid: uuid.UUID
    server_assigned_id: str | None = None
    topic_type: str
    topic_status: str
    reference_links: list[str] = Field(default_factory=list)
    title: str
    priority: str | None
    index: int | None = None
    labels: list[str]
    creation_date: datetime
    creation_author: str
    modified_date: datetime | None
    modified_author: str | None = None
    assigned_to: str | None
    stage: str | None = None
    description: str
    due_date: datetime | None
    authorization: TopicAuthorization


class BcfTopicWrite(BaseModel):
    """PUT replaces the topic: fields left out are emptied, except type and status (kept when left out)."""

    title: str = Field(min_length=1, max_length=500)
    topic_type: str | None = Field(default=None, min_length=1, max_length=100)
    topic_status: str | None = Field(default=None, min_length=1, max_length=100)
    priority: str | None = Field(default=None, max_length=100)
    labels: list[str] = Field(default_factory=list, max_length=20)
    assigned_to: str | None = Field(default=None, max_length=200)
    description: str = Field(default="", max_length=10000)
    due_date: datetime | None = None


class BcfTopicCreate(BcfTopicWrite):
    guid: uuid.UUID | None = Field(default=None, description="the topic's GUID; the server makes one when left out")


class BcfComment(BaseModel):
    guid: uuid.UUID
    date: datetime
    author: str
    comment: str
    topic_guid: uuid.UUID
    viewpoint_guid: uuid.UUID | None
    reply_to_comment_guid: uuid.UUID | None = None
    modified_date: datetime | None = None
    modified_author: str | None = None


class BcfCommentCreate(BaseModel):
    guid: uuid.UUID | None = None
    comment: str = Field(min_length=1, max_length=10000)
    viewpoint_guid: uuid.UUID | None = None


class Point(BaseModel):
    x: float = Field(allow_inf_nan=False)
    y: float = Field(allow_inf_nan=False)
    z: float = Field(allow_inf_nan=False)


class Direction(Point):
    @model_validator(mode="after")
    def _not_zero(self) -> Direction:
        if math.hypot(self.x, self.y, self.z) < 1e-12:
            raise ValueError("a direction must not be the zero vector")
        return self


class PerspectiveCamera(BaseModel):
    """In the model's engineering coordinates (metres), as BCF viewpoints are."""

    camera_view_point: Point
    camera_direction: Direction
    camera_up_vector: Direction
    field_of_view: float = Field(gt=0, lt=180, description="vertical field of view, degrees")
    aspect_ratio: float = Field(default=1.0, gt=0, allow_inf_nan=False)


class OrthogonalCamera(BaseModel):
    """In the model's engineering coordinates (metres), as BCF viewpoints are."""

    camera_view_point: Point
    camera_direction: Direction
    camera_up_vector: Direction
    view_to_world_scale: float = Field(gt=0, allow_inf_nan=False, description="the view's visible height, metres")
    aspect_ratio: float = Field(default=1.0, gt=0, allow_inf_nan=False)


class OrthogonalCameraOut(BaseModel):
    camera_view_point: Point
    camera_direction: Point
    camera_up_vector: Point
    view_to_world_scale: float
    aspect_ratio: float


class Snapshot(BaseModel):
    snapshot_type: Literal["png", "jpg"]
    snapshot_data: str = Field(
        min_length=1,
        max_length=MAX_SNAPSHOT_CHARS,
        description="the image, base64-encoded (PNG or JPEG, checked by its first bytes; at most 5 MiB)",
    )


class SnapshotOut(BaseModel):
    """The image itself: GET .../viewpoints/{guid}/snapshot."""

    snapshot_type: Literal["png", "jpg"]


class PerspectiveCameraOut(BaseModel):
    """A stored camera as it is (cameras imported from BCF-XML are not held to the input's limits)."""

    camera_view_point: Point
    camera_direction: Point
    camera_up_vector: Point
    field_of_view: float
    aspect_ratio: float


class Component(BaseModel):
    ifc_guid: str = Field(pattern=IFC_GUID_PATTERN, description="the element's IFC GlobalId")
    originating_system: str | None = Field(default=None, max_length=200)
    authoring_tool_id: str | None = Field(default=None, max_length=200)


class Coloring(BaseModel):
    color: str = Field(pattern=COLOR_PATTERN, description="RRGGBB or AARRGGBB, with or without '#'")
    components: list[Component] = Field(max_length=2000)


class Visibility(BaseModel):
    default_visibility: bool = True
    exceptions: list[Component] = Field(default_factory=list)


class Components(BaseModel):
    selection: list[Component] = Field(default_factory=list, max_length=2000)
    coloring: list[Coloring] = Field(default_factory=list, max_length=50)
    visibility: Visibility = Field(default_factory=Visibility)


class ComponentOut(BaseModel):
    ifc_guid: str
    originating_system: str | None = None
    authoring_tool_id: str | None = None


class ColoringOut(BaseModel):
    color: str
    components: list[ComponentOut]


class ComponentsOut(BaseModel):
    """Stored components as they are (imported from BCF-XML, not held to the input's patterns)."""

    selection: list[ComponentOut]
    coloring: list[ColoringOut]
    visibility: Visibility = Field(default_factory=Visibility)


class BcfViewpointCreate(BaseModel):
    guid: uuid.UUID | None = None
    perspective_camera: PerspectiveCamera | None = None
    orthogonal_camera: OrthogonalCamera | None = None
    components: Components = Field(default_factory=Components)
    snapshot: Snapshot | None = None

    @model_validator(mode="after")
    def _one_camera(self) -> BcfViewpointCreate:
        if self.perspective_camera is not None and self.orthogonal_camera is not None:
            raise ValueError("a viewpoint has either a perspective_camera or an orthogonal_camera, not both")
        return self


class BcfViewpoint(BaseModel):
    guid: uuid.UUID
    index: int | None = None
    perspective_camera: PerspectiveCameraOut | None
    orthogonal_camera: OrthogonalCameraOut | None = None
    lines: list[object] = Field(default_factory=list)
    clipping_planes: list[object] = Field(default_factory=list)
    bitmaps: list[object] = Field(default_factory=list)
    snapshot: SnapshotOut | None = None
    components: ComponentsOut


class BcfSelection(BaseModel):
    selection: list[ComponentOut]


class BcfColoring(BaseModel):
    coloring: list[ColoringOut]

"""BCF topics over HTTP: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

GlobalId = Field(min_length=22, max_length=22, pattern=r"^[0-9A-Za-z_$]{22}$")


class CameraIn(BaseModel):
    position: tuple[float, float, float]
    direction: tuple[float, float, float]
    up: tuple[float, float, float]
    field_of_view: float = Field(default=60.0, gt=0, lt=180)
    aspect_ratio: float = Field(default=1.0, gt=0)
    view_to_world_scale: float | None = Field(
        default=None, gt=0, description="set for an orthogonal camera: the view's visible height in metres"
    )


class ViewpointIn(BaseModel):
    globe_camera: CameraIn | None = Field(
        default=None, description="the 3D city's camera: ECEF metres (Cesium positionWC, directionWC, upWC)"
    )
    camera: CameraIn | None = Field(default=None, description="a camera in the model's engineering coordinates")
    selected: list[str] = Field(default_factory=list, max_length=2000)
    coloured: dict[str, list[str]] = Field(default_factory=dict, description="RRGGBB → GlobalIds")


class TopicCreate(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    topic_type: str = Field(default="Issue", min_length=1, max_length=100)
    status: str = Field(default="Open", min_length=1, max_length=100)
    priority: str | None = Field(default=None, max_length=100)
    assigned_to: str | None = Field(default=None, max_length=200)
    due_date: datetime | None = None
    labels: list[str] = Field(default_factory=list, max_length=20)
    description: str = Field(default="", max_length=10000)
    elements: list[str] = Field(default_factory=list, max_length=2000, description="GlobalIds")
    viewpoint: ViewpointIn | None = None


class TopicUpdate(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    topic_type: str | None = Field(default=None, min_length=1, max_length=100)
    status: str | None = Field(default=None, min_length=1, max_length=100)
    priority: str | None = Field(default=None, max_length=100)
    assigned_to: str | None = Field(default=None, max_length=200)
    due_date: datetime | None = None
    labels: list[str] | None = Field(default=None, max_length=20)
    description: str | None = Field(default=None, max_length=10000)


class CommentCreate(BaseModel):
    text: str = Field(min_length=1, max_length=10000)
    viewpoint_id: uuid.UUID | None = None


class CameraOut(BaseModel):
    position: tuple[float, float, float]
    direction: tuple[float, float, float]
    up: tuple[float, float, float]
    field_of_view: float
    aspect_ratio: float
    view_to_world_scale: float | None = Field(default=None, description="orthogonal cameras only")


class ViewpointPublic(BaseModel):
    id: uuid.UUID
    camera: CameraOut | None = Field(description="in the model's engineering coordinates (metres), as in BCF")
    globe_camera: CameraOut | None = Field(description="the same camera on the globe (ECEF), to open the 3D city")
    selected: list[str]
    coloured: dict[str, list[str]]
    snapshot_type: str | None = Field(default=None, description="png or jpg when the viewpoint has a snapshot")


class CommentPublic(BaseModel):
    id: uuid.UUID
    author: str
    text: str
    viewpoint_id: uuid.UUID | None
    created_at: datetime


class TopicPublic(BaseModel):
    id: uuid.UUID
    dataset_id: uuid.UUID
    revision_id: uuid.UUID
    title: str
    topic_type: str
    status: str
    priority: str | None
    assigned_to: str | None
    due_date: datetime | None
    labels: list[str]
    description: str
    elements: list[str]
    author: str
    created_at: datetime
    modified_at: datetime | None
    comments: list[CommentPublic]
    viewpoints: list[ViewpointPublic]


class TopicList(BaseModel):
    items: list[TopicPublic]

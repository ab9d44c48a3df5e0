"""The pipeline registry (segments and points of published survey tables), clearance rules, monitoring devices,
their readings and tokens, the smart-monitoring target and the rate's history.

Geometries: EPSG:4490 (CGCS2000 longitude, latitude) with Z = the survey's Yellow Sea 1985 height (segments:
the pipe's centreline; points: the ground). Registry rows belong to a dataset and are replaced when another of
its revisions is published; devices name their segment or point by dataset and code, so they survive that.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cim_platform.core.db.base import Base, CreatedAt, enum_check, new_id

STORAGE_SRID = 4490


class DeviceKind(enum.StrEnum):
    flow = "flow"
    pressure = "pressure"
    level = "level"
    gas_leak = "gas_leak"
    temperature = "temperature"
    cover_open = "cover_open"
    other = "other"


class DeviceState(enum.StrEnum):
    active = "active"
    offline = "offline"


class Segment(Base):
    __tablename__ = "pipeline_segments"
    __table_args__ = (UniqueConstraint("dataset_id", "code", name="uq_pipeline_segments_dataset_code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(200))
    start_code: Mapped[str] = mapped_column(String(100))
    end_code: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(24), index=True)
    round: Mapped[bool]
    diameter_mm: Mapped[float | None] = mapped_column(Float)
    width_mm: Mapped[float | None] = mapped_column(Float)
    height_mm: Mapped[float | None] = mapped_column(Float)
    material: Mapped[str | None] = mapped_column(String(100), index=True)
    pressure: Mapped[str | None] = mapped_column(String(100))
    voltage: Mapped[str | None] = mapped_column(String(100))
    laying: Mapped[str | None] = mapped_column(String(100))
    ducts: Mapped[int | None] = mapped_column(Integer)
    owner: Mapped[str | None] = mapped_column(String(300), index=True)
    construction_year: Mapped[int | None] = mapped_column(Integer)
    survey_date: Mapped[str | None] = mapped_column(String(40))
    start_depth: Mapped[float | None] = mapped_column(Float)
    end_depth: Mapped[float | None] = mapped_column(Float)
    length_m: Mapped[float] = mapped_column(Float)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("LINESTRINGZ", srid=STORAGE_SRID), nullable=False)


class Point(Base):
    __tablename__ = "pipeline_points"
    __table_args__ = (UniqueConstraint("dataset_id", "code", name="uq_pipeline_points_dataset_code"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(24), index=True)
    feature: Mapped[str] = mapped_column(String(24))
    ground_elevation: Mapped[float | None] = mapped_column(Float)
    depth: Mapped[float | None] = mapped_column(Float)
    manhole_size_m: Mapped[float | None] = mapped_column(Float)
    owner: Mapped[str | None] = mapped_column(String(300), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    geom = mapped_column(Geometry("POINTZ", srid=STORAGE_SRID), nullable=False)


class ClearanceRule(Base):
    """Minimum clearance between two category groups (``group_a`` ≤ ``group_b``), outer wall to outer wall."""

    __tablename__ = "pipeline_clearance_rules"
    __table_args__ = (CheckConstraint("group_a <= group_b", name="ordered"),
                      CheckConstraint("horizontal_m >= 0 AND vertical_m >= 0", name="positive"))

    group_a: Mapped[str] = mapped_column(String(24), primary_key=True)
    group_b: Mapped[str] = mapped_column(String(24), primary_key=True)
    horizontal_m: Mapped[float] = mapped_column(Float)
    vertical_m: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DeviceToken(CreatedAt, Base):
    """A device organisation's token for posting readings (only its SHA-256 is stored)."""

    __tablename__ = "pipeline_device_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Device(CreatedAt, Base):
    __tablename__ = "pipeline_devices"
    __table_args__ = (
        CheckConstraint(enum_check("kind", DeviceKind), name="kind"),
        CheckConstraint(enum_check("state", DeviceState), name="state"),
        CheckConstraint("(segment_code IS NULL) <> (point_code IS NULL)", name="attached_once"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=DeviceState.active.value)
    unit: Mapped[str] = mapped_column(String(20), default="")
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    segment_code: Mapped[str | None] = mapped_column(String(200))
    point_code: Mapped[str | None] = mapped_column(String(100))
    last_reading_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Reading(Base):
    __tablename__ = "pipeline_readings"
    __table_args__ = (Index("ix_pipeline_readings_device_time", "device_id", "measured_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pipeline_devices.id", ondelete="CASCADE"))
    measured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[float] = mapped_column(Float)


class MonitoringTarget(Base):
    """The smart-monitoring target share per unit (``city`` or a district code); 15 % unless set."""

    __tablename__ = "pipeline_monitoring_targets"
    __table_args__ = (CheckConstraint("share >= 0 AND share <= 1", name="share"),)

    unit: Mapped[str] = mapped_column(String(12), primary_key=True)
    share: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RateSnapshot(Base):
    """The smart-monitoring rate at one time, per unit (``city`` or a district code) and category (``*``: all)."""

    __tablename__ = "pipeline_rate_snapshots"
    __table_args__ = (Index("ix_pipeline_rate_snapshots_unit_time", "unit", "category", "taken_at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    unit: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(24))
    monitored_m: Mapped[float] = mapped_column(Float)
    total_m: Mapped[float] = mapped_column(Float)
    trigger: Mapped[str] = mapped_column(String(40))

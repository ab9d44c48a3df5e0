"""Tables of the facades domain: colour rules per zone, yearly targets per unit, showcase streets,
facade projects and their photos.

Geometries are stored in EPSG:4490 (CGCS2000 lon/lat) like the heritage domain's. Rules and targets
hold only what officials changed: the defaults live in code (``palette.DEFAULT_RULES``,
``units.default_target``).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cim_platform.core.db.base import Base, CreatedAt, enum_check, new_id, utcnow
from cim_platform.facades.geometry import STORAGE_SRID
from cim_platform.facades.palette import Zone


class StreetStatus(enum.StrEnum):
    candidate = "candidate"
    under_construction = "under_construction"
    accepted = "accepted"


STREET_STEPS: dict[StreetStatus, frozenset[StreetStatus]] = {
    StreetStatus.candidate: frozenset({StreetStatus.under_construction}),
    StreetStatus.under_construction: frozenset({StreetStatus.accepted, StreetStatus.candidate}),
    StreetStatus.accepted: frozenset(),
}


class ProjectStatus(enum.StrEnum):
    planned = "planned"
    design = "design"
    approved = "approved"
    construction = "construction"
    completed = "completed"
    accepted = "accepted"


PROJECT_STEPS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.planned: frozenset({ProjectStatus.design}),
    ProjectStatus.design: frozenset({ProjectStatus.approved, ProjectStatus.planned}),
    ProjectStatus.approved: frozenset({ProjectStatus.construction, ProjectStatus.design}),
    ProjectStatus.construction: frozenset({ProjectStatus.completed}),
    ProjectStatus.completed: frozenset({ProjectStatus.accepted, ProjectStatus.construction}),
    ProjectStatus.accepted: frozenset(),
}


class Orientation(enum.StrEnum):
    N = "N"
    NE = "NE"
    E = "E"
    SE = "SE"
    S = "S"
    SW = "SW"
    W = "W"
    NW = "NW"


class MeasureKind(enum.StrEnum):
    wall_renewal = "wall_renewal"  # m² of wall
    unified_facade = "unified_facade"  # m² of facade
    shop_signs = "shop_signs"  # signs
    lighting = "lighting"  # lights
    other = "other"


class PhotoStage(enum.StrEnum):
    before = "before"
    progress = "progress"
    after = "after"


class ColourRuleSet(Base):
    """One zone's colour rules as officials set them (keys of ``palette.ColourRules``)."""

    __tablename__ = "facade_colour_rules"
    __table_args__ = (CheckConstraint(enum_check("zone", Zone), name="zone"),)

    zone: Mapped[str] = mapped_column(String(24), primary_key=True)
    rules: Mapped[dict[str, Any]] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"))


class Target(Base):
    """A unit's showcase-street target for a year, as officials set it."""

    __tablename__ = "facade_targets"
    __table_args__ = (CheckConstraint("target >= 0", name="target"),)

    unit_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    target: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"))


class Street(CreatedAt, Base):
    """A showcase street (示范街): a line or an area, in a district or banner and maybe a town."""

    __tablename__ = "facade_streets"
    __table_args__ = (
        CheckConstraint(enum_check("status", StreetStatus), name="status"),
        CheckConstraint(enum_check("zone", Zone), name="zone"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, default=1)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    district_code: Mapped[str] = mapped_column(String(12), ForeignKey("districts.code"))
    town_code: Mapped[str | None] = mapped_column(String(12))
    unit_code: Mapped[str] = mapped_column(String(12), index=True)  # what its target counts for
    zone: Mapped[str] = mapped_column(String(24))  # colour-rule zone
    year: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(24), default=StreetStatus.candidate.value)
    acceptance_document: Mapped[str | None] = mapped_column(String(300))
    accepted_on: Mapped[date | None] = mapped_column(Date)
    length_m: Mapped[float | None] = mapped_column(Float)  # on the ellipsoid, lines only
    note: Mapped[str] = mapped_column(Text, default="")
    geometry = mapped_column(Geometry("GEOMETRY", srid=STORAGE_SRID), nullable=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Project(CreatedAt, Base):
    """A facade renovation project on one building (a dataset feature or a drawn footprint).

    ``colours`` keeps every colour as given with its readings, ``colour_check`` the rule outcome;
    ``heritage`` the historic records the footprint touches (outline, protection range, control zone),
    which make ``approval_required``."""

    __tablename__ = "facade_projects"
    __table_args__ = (
        CheckConstraint(enum_check("status", ProjectStatus), name="status"),
        CheckConstraint(enum_check("zone", Zone), name="zone"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, default=1)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    street_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("facade_streets.id", ondelete="SET NULL"), index=True
    )
    district_code: Mapped[str] = mapped_column(String(12), ForeignKey("districts.code"), index=True)
    zone: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default=ProjectStatus.planned.value, index=True)
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"))
    feature_id: Mapped[str | None] = mapped_column(String(200))
    footprint = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID))
    orientation: Mapped[str | None] = mapped_column(String(2))
    facade_area_m2: Mapped[float | None] = mapped_column(Float)
    measures: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    materials: Mapped[list[str]] = mapped_column(JSONB, default=list)
    signs: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    lighting: Mapped[str] = mapped_column(Text, default="")
    budget_cny: Mapped[float | None] = mapped_column(Float)
    spent_cny: Mapped[float | None] = mapped_column(Float)
    funding_source: Mapped[str] = mapped_column(String(300), default="")
    contractor: Mapped[str] = mapped_column(String(300), default="")
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    colours: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    colour_check: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    colour_outcome: Mapped[str | None] = mapped_column(String(8))
    heritage: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    approval_required: Mapped[bool] = mapped_column(Boolean, default=False)
    approval_documents: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Photo(CreatedAt, Base):
    """A photo of a project: the original kept byte for byte (size, SHA-256), capture time and
    direction from EXIF when present."""

    __tablename__ = "facade_photos"
    __table_args__ = (CheckConstraint(enum_check("stage", PhotoStage), name="stage"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("facade_projects.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(Text)
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    captured_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=False))
    direction_deg: Mapped[float | None] = mapped_column(Float)
    caption: Mapped[str] = mapped_column(Text, default="")
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"))


class ModelCheck(Base):
    """The colour check of an uploaded IFC revision's exterior (job ``facades.check_model_colours``),
    one per dataset revision (a new check replaces the old)."""

    __tablename__ = "facade_model_checks"
    __table_args__ = (CheckConstraint(enum_check("zone", Zone), name="zone"),)

    revision_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("dataset_revisions.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    zone: Mapped[str] = mapped_column(String(24))
    outcome: Mapped[str] = mapped_column(String(8))
    result: Mapped[dict[str, Any]] = mapped_column(JSONB)
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    checked_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("users.id", ondelete="SET NULL"))

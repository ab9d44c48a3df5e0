"""Coverage tables: administrative units, built-up areas, the CIM-level mapping, building inventories,
targets and snapshots (issue 12).

Units: the nine districts and banners are units whose ``district_code`` is their own code (seeded from
``districts``); towns (e.g. Altan Xire 阿勒腾席热镇, 150627100) are units with ``parent_code`` naming
their district. The city figure adds up district-level units only (towns lie inside them).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cim_platform.core.db.base import Base, CreatedAt, new_id

CITY = "city"  # the unit code of the city-wide figure in snapshots and targets


class CoverageUnit(Base):
    """A district/banner (``parent_code`` NULL, ``district_code`` = ``code``) or a town inside one."""

    __tablename__ = "coverage_units"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)  # administrative division code
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("coverage_units.code"))
    level: Mapped[str] = mapped_column(String(16))  # district | banner | town
    name: Mapped[str] = mapped_column(String(80))  # pinyin / English
    name_zh: Mapped[str] = mapped_column(String(40))
    boundary = mapped_column(Geometry("MULTIPOLYGON", srid=4326))
    boundary_source: Mapped[str | None] = mapped_column(String(200))


class BuiltUpArea(CreatedAt, Base):
    """The built-up area of one unit in one year (all loaded polygons merged), with its source."""

    __tablename__ = "coverage_built_up_areas"
    __table_args__ = (UniqueConstraint("unit_code", "year", name="uq_coverage_built_up_areas_unit_year"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    unit_code: Mapped[str] = mapped_column(ForeignKey("coverage_units.code", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32))  # yearbook | land_survey | city_checkup | other
    source_note: Mapped[str] = mapped_column(Text, default="")
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4326), nullable=False)
    area_m2: Mapped[float] = mapped_column(Float)  # geodesic
    geom_sha256: Mapped[str] = mapped_column(String(64))  # of the stored WKB: part of snapshot input hashes
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LevelMapping(Base):
    """Source kind (dataset kind) + LOD → CIM level 1…7; ``lod`` '*' matches any LOD of the kind."""

    __tablename__ = "coverage_level_mappings"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 7", name="level"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    lod: Mapped[str] = mapped_column(String(16), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InventoryBuilding(Base):
    """One building footprint of a unit's inventory (e.g. the land survey), for the count figure."""

    __tablename__ = "coverage_inventory_buildings"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("coverage_units.code", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(32))
    footprint = mapped_column(Geometry("MULTIPOLYGON", srid=4326), nullable=False)


class Target(CreatedAt, Base):
    """A coverage share to reach by a date, city-wide (``unit_code`` 'city') or for one unit."""

    __tablename__ = "coverage_targets"
    __table_args__ = (
        UniqueConstraint("unit_code", "due_date", "min_level", name="uq_coverage_targets_unit_due_level"),
        CheckConstraint("share > 0 AND share <= 1", name="share"),
        CheckConstraint("min_level BETWEEN 1 AND 7", name="min_level"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    unit_code: Mapped[str] = mapped_column(String(12), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    share: Mapped[float] = mapped_column(Float)
    min_level: Mapped[int] = mapped_column(SmallInteger, default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Snapshot(Base):
    """A computed coverage: when, the definition, the hash of its inputs, one figure row per unit."""

    __tablename__ = "coverage_snapshots"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    definition_key: Mapped[str] = mapped_column(String(64), index=True)  # SHA-256 of the definition
    inputs_hash: Mapped[str] = mapped_column(String(64), unique=True)  # definition + revisions + built-up areas
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    trigger: Mapped[str] = mapped_column(String(16))  # demand | publish | built_up | demo
    duration_ms: Mapped[float] = mapped_column(Float, default=0.0)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class SnapshotFigure(Base):
    """The figures of one unit (or the city, ``unit_code`` 'city') in a snapshot."""

    __tablename__ = "coverage_snapshot_figures"

    snapshot_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("coverage_snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    unit_code: Mapped[str] = mapped_column(String(12), primary_key=True)
    unit_hash: Mapped[str] = mapped_column(String(64), index=True)  # this unit's inputs: reused when unchanged
    built_up_year: Mapped[int | None] = mapped_column(Integer)
    built_up_m2: Mapped[float] = mapped_column(Float)
    covered_m2: Mapped[float] = mapped_column(Float)
    share: Mapped[float | None] = mapped_column(Float)
    buildings: Mapped[int | None] = mapped_column(Integer)
    buildings_covered: Mapped[int | None] = mapped_column(Integer)
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSONB)  # {"kind": {k: m2}, "level": {"CIM3": m2}}


class RevisionPart(Base):
    """One polygon of a published revision's footprint, valid, with its geodesic area and the MD5 of its WKB
    (identical polygons of several datasets count once); stored at publication (``parts.py``)."""

    __tablename__ = "coverage_revision_parts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"), index=True)
    geom = mapped_column(Geometry("POLYGON", srid=4326), nullable=False)
    area_m2: Mapped[float] = mapped_column(Float)
    geom_hash: Mapped[uuid.UUID] = mapped_column(Uuid)


class PartOverlap(Base):
    """Two stored parts whose interiors meet (both directions stored): only such parts are unioned."""

    __tablename__ = "coverage_part_overlaps"

    part_id: Mapped[int] = mapped_column(ForeignKey("coverage_revision_parts.id", ondelete="CASCADE"), primary_key=True)
    other_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_revision_parts.id", ondelete="CASCADE"), primary_key=True, index=True
    )

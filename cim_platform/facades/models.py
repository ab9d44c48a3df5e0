"""Tables of the facades domain: colour rules per zone, yearly targets per unit, showcase streets.

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
from sqlalchemy import CheckConstraint, Date, DateTime, Float, ForeignKey, Integer, String, Text, Uuid
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

"""Historic-building records, their groups and the proposals that edit listed records.

Geometries are stored in CGCS2000 geographic coordinates (EPSG:4490, longitude/latitude); any CRS is
accepted on input (``cim_platform.heritage.geometry``). Nothing is deleted: a record is retired with a
reason, a proposal ends accepted or rejected. ``version`` counts the record's changes (its ETag).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Float, ForeignKey, Integer, String, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cim_platform.core.db.base import Base, CreatedAt, enum_check, new_id

STORAGE_SRID = 4490


class Status(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"
    under_review = "under_review"
    listed = "listed"
    delisted = "delisted"


class Level(enum.StrEnum):
    national = "national"  # 全国重点文物保护单位
    regional = "regional"  # 自治区级
    city = "city"  # 市级
    county = "county"  # 旗区县级
    historic_building = "historic_building"  # 历史建筑 (listed by the city)
    unclassified = "unclassified"


class Category(enum.StrEnum):
    building = "building"
    structure = "structure"


class YearPrecision(enum.StrEnum):
    exact = "exact"
    decade = "decade"
    period = "period"


class Ownership(enum.StrEnum):
    state = "state"
    collective = "collective"
    private = "private"
    mixed = "mixed"


class Preservation(enum.StrEnum):
    good = "good"
    fair = "fair"
    poor = "poor"
    endangered = "endangered"


class ProposalState(enum.StrEnum):
    pending = "pending"
    accepted = "accepted"
    rejected = "rejected"


class BuildingGroup(CreatedAt, Base):
    """A group of historic buildings (a courtyard, a temple complex): one record per building, linked."""

    __tablename__ = "heritage_groups"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(300))
    code: Mapped[str | None] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Building(CreatedAt, Base):
    __tablename__ = "heritage_buildings"
    __table_args__ = (
        CheckConstraint(enum_check("status", Status), name="status"),
        CheckConstraint(enum_check("level", Level), name="level"),
        CheckConstraint(f"category IS NULL OR {enum_check('category', Category)}", name="category"),
        CheckConstraint(
            f"year_precision IS NULL OR {enum_check('year_precision', YearPrecision)}", name="year_precision"
        ),
        CheckConstraint(f"ownership IS NULL OR {enum_check('ownership', Ownership)}", name="ownership"),
        CheckConstraint(f"preservation IS NULL OR {enum_check('preservation', Preservation)}", name="preservation"),
        CheckConstraint("status <> 'delisted' OR delisting_reference IS NOT NULL", name="delisting_reference"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # identity and listing
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    aliases: Mapped[list[str]] = mapped_column(ARRAY(String(300)), default=list)
    listing_batch: Mapped[str | None] = mapped_column(String(100))
    announcement_number: Mapped[str | None] = mapped_column(String(200))
    announcement_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default=Status.draft.value, index=True)
    level: Mapped[str] = mapped_column(String(24), default=Level.historic_building.value, index=True)
    delisting_reference: Mapped[str | None] = mapped_column(String(200))
    # location
    district_code: Mapped[str] = mapped_column(ForeignKey("districts.code"), index=True)
    town: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(300))
    location = mapped_column(Geometry("POINT", srid=STORAGE_SRID))
    outline = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID))
    protection_range = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID))
    control_zone = mapped_column(Geometry("MULTIPOLYGON", srid=STORAGE_SRID))
    # building facts
    category: Mapped[str | None] = mapped_column(String(16))
    construction_period: Mapped[str | None] = mapped_column(String(100))
    construction_year: Mapped[int | None] = mapped_column(Integer)
    year_precision: Mapped[str | None] = mapped_column(String(16))
    structure_type: Mapped[str | None] = mapped_column(String(100))
    storeys: Mapped[int | None] = mapped_column(Integer)
    height_m: Mapped[float | None] = mapped_column(Float)
    floor_area_m2: Mapped[float | None] = mapped_column(Float)
    ownership: Mapped[str | None] = mapped_column(String(16))
    owner: Mapped[str | None] = mapped_column(String(300))
    occupant: Mapped[str | None] = mapped_column(String(300))
    current_use: Mapped[str | None] = mapped_column(String(300))
    preservation: Mapped[str | None] = mapped_column(String(16))
    value_features: Mapped[str | None] = mapped_column(Text)
    key_parts: Mapped[str | None] = mapped_column(Text)
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("heritage_groups.id", ondelete="RESTRICT"), index=True
    )
    # life
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Proposal(CreatedAt, Base):
    """A surveyor's edit of a listed record, waiting for an official's (or an admin's) decision."""

    __tablename__ = "heritage_proposals"
    __table_args__ = (CheckConstraint(enum_check("state", ProposalState), name="state"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("heritage_buildings.id", ondelete="RESTRICT"), index=True)
    base_version: Mapped[int] = mapped_column(Integer)
    changes: Mapped[dict[str, Any]] = mapped_column(JSONB)
    """Field → new value, JSON (geometries as GeoJSON in EPSG:4490)."""
    note: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=ProposalState.pending.value, index=True)
    proposed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    proposed_by_name: Mapped[str | None] = mapped_column(String(100))
    reviewed_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_by_name: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    review_comment: Mapped[str | None] = mapped_column(Text)


class Section(enum.StrEnum):
    """The five parts of a historic building's archive."""

    features = "features"  # (1) artistic and historic features, construction date, rarity
    technical = "technical"  # (2) technical documents of the building
    use_ownership = "use_ownership"  # (3) current use and changes of ownership: a dated series with evidence
    interventions = "interventions"  # (4) repairs, decoration, renovation: a dated series
    survey = "survey"  # (5) survey-and-mapping records


class ItemKind(enum.StrEnum):
    site_plan = "site_plan"
    plan = "plan"
    elevation = "elevation"
    section = "section"
    detail = "detail"
    point_cloud = "point_cloud"
    orthophoto = "orthophoto"
    photo = "photo"
    panorama = "panorama"
    model_3d = "model_3d"
    bim_model = "bim_model"
    video = "video"
    survey_report = "survey_report"
    repair_record = "repair_record"
    ownership_record = "ownership_record"
    approval_document = "approval_document"


class QaStage(enum.StrEnum):
    self_check = "self_check"
    re_check = "re_check"
    accepted = "accepted"


class SurveyTier(enum.StrEnum):
    outline = "outline"
    typical = "typical"
    full = "full"


class HeightDatum(enum.StrEnum):
    yellow_sea_1985 = "yellow_sea_1985"
    other = "other"


class ArchiveItem(CreatedAt, Base):
    """One file of a building's archive, kept unchanged (size, SHA-256). A new version is a new item that
    supersedes the old one; nothing is overwritten or deleted (items are retired with a reason)."""

    __tablename__ = "heritage_archive_items"
    __table_args__ = (
        CheckConstraint(enum_check("section", Section), name="section"),
        CheckConstraint(enum_check("kind", ItemKind), name="kind"),
        CheckConstraint(enum_check("qa_stage", QaStage), name="qa_stage"),
        CheckConstraint(f"survey_tier IS NULL OR {enum_check('survey_tier', SurveyTier)}", name="survey_tier"),
        CheckConstraint(f"height_datum IS NULL OR {enum_check('height_datum', HeightDatum)}", name="height_datum"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("heritage_buildings.id", ondelete="RESTRICT"), index=True)
    section: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(24))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    event_date: Mapped[date | None] = mapped_column(Date)
    """The date of the change or intervention (sections 3 and 4 are dated series)."""
    # the original file, unchanged
    filename: Mapped[str] = mapped_column(String(500))
    path: Mapped[str] = mapped_column(String(1000))  # relative to the data folder
    bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(32))
    # survey metadata
    plane_datum: Mapped[str | None] = mapped_column(String(64))  # e.g. EPSG:4546 (CGCS2000 3-degree zone 37)
    height_datum: Mapped[str | None] = mapped_column(String(24))
    survey_tier: Mapped[str | None] = mapped_column(String(16))
    accuracy: Mapped[str | None] = mapped_column(String(100))
    captured_on: Mapped[date | None] = mapped_column(Date)
    surveyor: Mapped[str | None] = mapped_column(String(200))
    organisation: Mapped[str | None] = mapped_column(String(300))
    equipment: Mapped[str | None] = mapped_column(String(300))
    # QA and versions
    qa_stage: Mapped[str] = mapped_column(String(16), default=QaStage.self_check.value)
    qa_log: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    """Each step: stage, by (username), at (ISO time), comment."""
    version_no: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("heritage_archive_items.id", ondelete="RESTRICT"), unique=True
    )
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"), index=True)
    """The dataset its conversion became (point clouds, meshes, BIM models filed with ``convert``)."""


class PublishApproval(CreatedAt, Base):
    """An official's approval (document reference) to publish a dataset revision that overlaps protection
    zones (the heritage publish guard lets it through then)."""

    __tablename__ = "heritage_publish_approvals"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    approved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_by_name: Mapped[str | None] = mapped_column(String(100))


class Alert(CreatedAt, Base):
    """Demolition watch: a newly published footprint layer covers the place of a listed building but holds
    no building there. Officials resolve alerts with a comment; nothing is deleted."""

    __tablename__ = "heritage_alerts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("heritage_buildings.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="missing_in_layer")
    dataset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("datasets.id", ondelete="SET NULL"))
    revision_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    resolved_by_name: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(Text)

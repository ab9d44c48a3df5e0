"""Datasets, their revisions and tile contents, with the city's districts.

A dataset carries what the city-wide statistics need without opening a tileset: its 2D footprint,
district, source kind and level of detail (copied from the published revision on publish).
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
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cim_platform.accounts.models import Organization
from cim_platform.core.db.base import Base, CreatedAt, enum_check, new_id


class DatasetKind(enum.StrEnum):
    ifc = "ifc"
    pointcloud = "pointcloud"
    mesh = "mesh"
    footprints = "footprints"
    terrain = "terrain"  # a DEM → quantized-mesh terrain (issue 14)
    imagery = "imagery"  # an orthophoto → imagery tiles (issue 14)
    tileset = "tileset"  # an existing 3D Tiles tileset (1.0 or 1.1), checked and upgraded (issue 14)
    oblique = "oblique"  # oblique photogrammetry delivered as OSGB (issue 14)
    pipelines = "pipelines"  # underground pipeline survey tables (issue 15)


WITHOUT_TILESET = frozenset({DatasetKind.terrain.value, DatasetKind.imagery.value})
"""Kinds whose conversion is no 3D Tiles tileset (quantized-mesh terrain, an imagery COG: the ground domain
serves them)."""


def has_tileset(kind: str) -> bool:
    return kind not in WITHOUT_TILESET


class Visibility(enum.StrEnum):
    public = "public"
    internal = "internal"


class Publication(enum.StrEnum):
    auto = "auto"  # each newly converted revision is published
    pinned = "pinned"  # an owner chose an older revision (a rollback stays until they publish again)


class RevisionState(enum.StrEnum):
    pending = "pending"  # uploaded, conversion queued or running
    ready = "ready"  # converted, tiles stored
    failed = "failed"
    cancelled = "cancelled"
    withdrawn = "withdrawn"  # taken back by its owner: its pinned URLs are no longer served (issue 18)


class District(Base):
    """The nine districts and banners of Ordos (seeded by a migration)."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)  # administrative division code
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    name_zh: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # district | banner
    epsg: Mapped[int] = mapped_column(Integer)  # CGCS2000 3-degree Gauss-Kruger zone
    seat = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))


class Dataset(CreatedAt, Base):
    __tablename__ = "datasets"
    __table_args__ = (
        CheckConstraint(enum_check("kind", DatasetKind), name="kind"),
        CheckConstraint(enum_check("visibility", Visibility), name="visibility"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), index=True)
    district_code: Mapped[str | None] = mapped_column(ForeignKey("districts.code"), index=True)
    visibility: Mapped[str] = mapped_column(String(16), default=Visibility.internal.value)
    lod: Mapped[str | None] = mapped_column(String(16))  # LOD1 (blocks), LOD2, LOD3 (BIM), points, mesh
    published_revision_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("dataset_revisions.id", use_alter=True, ondelete="SET NULL")
    )
    publication: Mapped[str] = mapped_column(String(16), default=Publication.auto.value, server_default="auto")
    footprint = mapped_column(Geometry("MULTIPOLYGON", srid=4326))  # of the published revision
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)
    revisions: Mapped[list[DatasetRevision]] = relationship(
        back_populates="dataset", foreign_keys="DatasetRevision.dataset_id", order_by="DatasetRevision.number"
    )


class DatasetRevision(CreatedAt, Base):
    __tablename__ = "dataset_revisions"
    __table_args__ = (
        UniqueConstraint("dataset_id", "number", name="uq_dataset_revisions_dataset_number"),
        CheckConstraint(enum_check("state", RevisionState), name="state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=RevisionState.pending.value)
    # the original upload, kept unchanged
    source_filename: Mapped[str] = mapped_column(String(500))
    source_path: Mapped[str] = mapped_column(String(1000))  # relative to the data folder
    source_bytes: Mapped[int] = mapped_column(BigInteger)
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    convert_params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # the conversion
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    tileset: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    crs: Mapped[str | None] = mapped_column(String(100))
    georef_source: Mapped[str | None] = mapped_column(String(100))
    origin = mapped_column(Geometry("POINTZ", srid=4326, spatial_index=False))
    origin_ecef: Mapped[list[float] | None] = mapped_column(ARRAY(Float))
    root_transform: Mapped[list[float] | None] = mapped_column(ARRAY(Float))
    footprint = mapped_column(Geometry("MULTIPOLYGON", srid=4326))
    min_height: Mapped[float | None] = mapped_column(Float)
    max_height: Mapped[float | None] = mapped_column(Float)
    tile_count: Mapped[int] = mapped_column(Integer, default=0)
    tile_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # withdrawn by its owner (state "withdrawn"): its pinned URLs answer 410 Gone
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    withdrawn_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    dataset: Mapped[Dataset] = relationship(back_populates="revisions", foreign_keys=[dataset_id])


class TileContent(Base):
    """One file of a revision's tileset (glb, external tileset json, subtree), stored in the database."""

    __tablename__ = "tile_contents"
    __table_args__ = (UniqueConstraint("revision_id", "path", name="uq_tile_contents_revision_path"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(String(500))
    media_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    geometric_error: Mapped[float | None] = mapped_column(Float)
    bounds = mapped_column(Geometry("POLYGON", srid=4326))  # 2D extent of the content's volume
    min_height: Mapped[float | None] = mapped_column(Float)
    max_height: Mapped[float | None] = mapped_column(Float)

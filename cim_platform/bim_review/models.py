"""Tables of the BIM review domain: IDS documents and their versions (managed by officials), the IDS
check of each IFC revision against each applicable IDS version, differences between revisions, and
BCF topics (with comments and viewpoints) on revisions."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from cim_platform.core.db.base import Base, CreatedAt, enum_check, new_id


class CheckState(enum.StrEnum):
    queued = "queued"
    passed = "passed"
    failed = "failed"
    error = "error"  # the model could not be read: the check says nothing about the requirements


class IdsDocument(CreatedAt, Base):
    """An IDS managed by officials; applies to a dataset when every non-empty assignment list holds it
    (organisations, districts, dataset kinds; all empty: every IFC dataset)."""

    __tablename__ = "bim_ids_documents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    require_pass: Mapped[bool] = mapped_column(Boolean, default=False)
    organization_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    district_codes: Mapped[list[str]] = mapped_column(ARRAY(String(12)), default=list)
    dataset_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class IdsVersion(CreatedAt, Base):
    __tablename__ = "bim_ids_versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bim_ids_documents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(300))
    xml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500), default="")
    specifications: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class IdsCheck(CreatedAt, Base):
    """One IFC revision checked against one IDS version (job ``bim_review.check_ids``)."""

    __tablename__ = "bim_ids_checks"
    __table_args__ = (
        UniqueConstraint("revision_id", "ids_version_id"),
        CheckConstraint(enum_check("state", CheckState), name="state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"), index=True)
    ids_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bim_ids_versions.id", ondelete="CASCADE"))
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=CheckState.queued.value)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RevisionDiff(CreatedAt, Base):
    """What changed between two IFC revisions of a dataset (job ``bim_review.diff_revisions``)."""

    __tablename__ = "bim_revision_diffs"
    __table_args__ = (
        UniqueConstraint("old_revision_id", "new_revision_id"),
        CheckConstraint(enum_check("state", CheckState), name="state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    old_revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"))
    new_revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"))
    job_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default=CheckState.queued.value)
    message: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BcfTopic(Base):
    """A BCF topic on an IFC revision; its id is the BCF topic GUID. Elements by GlobalId."""

    __tablename__ = "bcf_topics"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    dataset_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    revision_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    topic_type: Mapped[str] = mapped_column(String(100), default="Issue")
    status: Mapped[str] = mapped_column(String(100), default="Open")
    priority: Mapped[str | None] = mapped_column(String(100))
    assigned_to: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    labels: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    elements: Mapped[list[str]] = mapped_column(ARRAY(String(22)), default=list)
    author: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    modified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BcfComment(Base):
    __tablename__ = "bcf_comments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    topic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bcf_topics.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    viewpoint_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BcfViewpoint(Base):
    """A viewpoint: camera in the model's engineering coordinates (metres; perspective, or orthogonal when
    ``view_to_world_scale`` is set), selected and coloured elements, and a snapshot image (PNG or JPEG)."""

    __tablename__ = "bcf_viewpoints"
    __table_args__ = (
        CheckConstraint(
            "(snapshot IS NULL AND snapshot_type IS NULL) OR snapshot_type IN ('png', 'jpg')", name="snapshot_type"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    topic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bcf_topics.id", ondelete="CASCADE"), index=True)
    camera: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    selected: Mapped[list[str]] = mapped_column(ARRAY(String(22)), default=list)
    coloured: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)  # read only when asked for
    snapshot_type: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

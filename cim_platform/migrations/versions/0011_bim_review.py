"""BIM review: IDS documents and versions, IDS checks of IFC revisions, differences between revisions,
BCF topics, comments and viewpoints (issue 16)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

STATES = "state IN ('queued', 'passed', 'failed', 'error')"


def upgrade() -> None:
    op.create_table(
        "bim_ids_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("require_pass", sa.Boolean(), nullable=False),
        sa.Column("organization_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("district_codes", postgresql.ARRAY(sa.String(length=12)), nullable=False),
        sa.Column("dataset_kinds", postgresql.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_bim_ids_documents_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bim_ids_documents")),
    )
    op.create_table(
        "bim_ids_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("specifications", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_bim_ids_versions_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["bim_ids_documents.id"],
            name=op.f("fk_bim_ids_versions_document_id_bim_ids_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bim_ids_versions")),
        sa.UniqueConstraint("document_id", "number", name=op.f("uq_bim_ids_versions_document_id")),
    )
    op.create_index(op.f("ix_bim_ids_versions_document_id"), "bim_ids_versions", ["document_id"])
    op.create_table(
        "bim_ids_checks",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("ids_version_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(STATES, name=op.f("ck_bim_ids_checks_state")),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_bim_ids_checks_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_bim_ids_checks_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ids_version_id"],
            ["bim_ids_versions.id"],
            name=op.f("fk_bim_ids_checks_ids_version_id_bim_ids_versions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_bim_ids_checks_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bim_ids_checks")),
        sa.UniqueConstraint("revision_id", "ids_version_id", name=op.f("uq_bim_ids_checks_revision_id")),
    )
    op.create_index(op.f("ix_bim_ids_checks_dataset_id"), "bim_ids_checks", ["dataset_id"])
    op.create_index(op.f("ix_bim_ids_checks_revision_id"), "bim_ids_checks", ["revision_id"])
    op.create_table(
        "bim_revision_diffs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("old_revision_id", sa.Uuid(), nullable=False),
        sa.Column("new_revision_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(STATES, name=op.f("ck_bim_revision_diffs_state")),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_bim_revision_diffs_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["old_revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_bim_revision_diffs_old_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["new_revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_bim_revision_diffs_new_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_bim_revision_diffs_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bim_revision_diffs")),
        sa.UniqueConstraint("old_revision_id", "new_revision_id", name=op.f("uq_bim_revision_diffs_old_revision_id")),
    )
    op.create_index(op.f("ix_bim_revision_diffs_dataset_id"), "bim_revision_diffs", ["dataset_id"])

    _bcf_tables()


def _bcf_tables() -> None:
    op.create_table(
        "bcf_topics",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("topic_type", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.String(length=100), nullable=True),
        sa.Column("assigned_to", sa.String(length=200), nullable=True),
        sa.Column("due_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("labels", postgresql.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("elements", postgresql.ARRAY(sa.String(length=22)), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_bcf_topics_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_bcf_topics_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_bcf_topics_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bcf_topics")),
    )
    op.create_index(op.f("ix_bcf_topics_dataset_id"), "bcf_topics", ["dataset_id"])
    op.create_index(op.f("ix_bcf_topics_revision_id"), "bcf_topics", ["revision_id"])
    op.create_table(
        "bcf_comments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("topic_id", sa.Uuid(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("viewpoint_id", sa.Uuid(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["bcf_topics.id"], name=op.f("fk_bcf_comments_topic_id_bcf_topics"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_bcf_comments_created_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bcf_comments")),
    )
    op.create_index(op.f("ix_bcf_comments_topic_id"), "bcf_comments", ["topic_id"])
    op.create_table(
        "bcf_viewpoints",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("topic_id", sa.Uuid(), nullable=False),
        sa.Column("camera", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("selected", postgresql.ARRAY(sa.String(length=22)), nullable=False),
        sa.Column("coloured", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"], ["bcf_topics.id"], name=op.f("fk_bcf_viewpoints_topic_id_bcf_topics"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bcf_viewpoints")),
    )
    op.create_index(op.f("ix_bcf_viewpoints_topic_id"), "bcf_viewpoints", ["topic_id"])


def downgrade() -> None:
    op.drop_table("bcf_viewpoints")
    op.drop_table("bcf_comments")
    op.drop_table("bcf_topics")
    op.drop_table("bim_revision_diffs")
    op.drop_table("bim_ids_checks")
    op.drop_table("bim_ids_versions")
    op.drop_table("bim_ids_documents")

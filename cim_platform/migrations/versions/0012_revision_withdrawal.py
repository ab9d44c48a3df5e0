"""Withdrawn revisions: who withdrew them, when and why (issue 18)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dataset_revisions", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("dataset_revisions", sa.Column("withdrawn_by", sa.Uuid(), nullable=True))
    op.add_column("dataset_revisions", sa.Column("withdrawal_reason", sa.Text(), nullable=True))
    op.create_foreign_key(
        op.f("fk_dataset_revisions_withdrawn_by_users"),
        "dataset_revisions",
        "users",
        ["withdrawn_by"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("fk_dataset_revisions_withdrawn_by_users"), "dataset_revisions", type_="foreignkey")
    op.drop_column("dataset_revisions", "withdrawal_reason")
    op.drop_column("dataset_revisions", "withdrawn_by")
    op.drop_column("dataset_revisions", "withdrawn_at")

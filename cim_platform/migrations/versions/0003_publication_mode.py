"""Datasets remember whether their publication follows new revisions or is pinned by an owner

Revision ID: 0003_publication_mode
Revises: 0002_datasets
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_publication_mode"
down_revision = "0002_datasets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("datasets", sa.Column("publication", sa.String(length=16), server_default="auto", nullable=False))


def downgrade() -> None:
    op.drop_column("datasets", "publication")

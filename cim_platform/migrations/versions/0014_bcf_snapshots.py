"""BCF viewpoint snapshots (issue 16): the image a BIM tool or the portal sends with a viewpoint (PNG or
JPEG, checked by its magic bytes), kept with the viewpoint and carried in BCF-XML

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("bcf_viewpoints", sa.Column("snapshot", sa.LargeBinary(), nullable=True))
    op.add_column("bcf_viewpoints", sa.Column("snapshot_type", sa.String(length=8), nullable=True))
    op.create_check_constraint(
        op.f("ck_bcf_viewpoints_snapshot_type"),
        "bcf_viewpoints",
        "(snapshot IS NULL AND snapshot_type IS NULL) OR snapshot_type IN ('png', 'jpg')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_bcf_viewpoints_snapshot_type"), "bcf_viewpoints", type_="check")
    op.drop_column("bcf_viewpoints", "snapshot_type")
    op.drop_column("bcf_viewpoints", "snapshot")

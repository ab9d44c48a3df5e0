"""BIM review: IDS checks, BCF topics, model differences (issue 16)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # reserved for this tables (filled in by its work)


def downgrade() -> None:
    pass

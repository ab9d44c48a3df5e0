"""Withdrawn revisions: who withdrew them, when and why (issue 18)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # reserved for this tables (filled in by its work)


def downgrade() -> None:
    pass

"""New dataset kinds (terrain, imagery, existing 3D Tiles, oblique photogrammetry, pipeline tables) and the
withdrawn revision state

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KINDS_BEFORE = ("ifc", "pointcloud", "mesh", "footprints")
KINDS_AFTER = (*KINDS_BEFORE, "terrain", "imagery", "tileset", "oblique", "pipelines")
STATES_BEFORE = ("pending", "ready", "failed", "cancelled")
STATES_AFTER = (*STATES_BEFORE, "withdrawn")


def _check(table: str, column: str, values: tuple[str, ...]) -> None:
    name = f"ck_{table}_{column}"
    listed = ", ".join(f"'{value}'" for value in values)
    op.drop_constraint(op.f(name), table, type_="check")
    op.create_check_constraint(op.f(name), table, f"{column} IN ({listed})")


def upgrade() -> None:
    _check("datasets", "kind", KINDS_AFTER)
    _check("dataset_revisions", "state", STATES_AFTER)


def downgrade() -> None:
    _check("dataset_revisions", "state", STATES_BEFORE)
    _check("datasets", "kind", KINDS_BEFORE)

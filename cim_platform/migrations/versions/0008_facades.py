"""Facades (issue 11): colour rules per zone, yearly showcase-street targets per unit, showcase streets

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "facade_colour_rules",
        sa.Column("zone", sa.String(length=24), nullable=False),
        sa.Column("rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "zone IN ('old_town', 'protection_zone', 'new_district')", name=op.f("ck_facade_colour_rules_zone")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_facade_colour_rules_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("zone", name=op.f("pk_facade_colour_rules")),
    )
    op.create_table(
        "facade_targets",
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("target >= 0", name=op.f("ck_facade_targets_target")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_facade_targets_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("unit_code", "year", name=op.f("pk_facade_targets")),
    )
    op.create_geospatial_table(
        "facade_streets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("district_code", sa.String(length=12), nullable=False),
        sa.Column("town_code", sa.String(length=12), nullable=True),
        sa.Column("unit_code", sa.String(length=12), nullable=False),
        sa.Column("zone", sa.String(length=24), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("acceptance_document", sa.String(length=300), nullable=True),
        sa.Column("accepted_on", sa.Date(), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "geometry",
            Geometry(
                geometry_type="GEOMETRY",
                srid=4490,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('candidate', 'under_construction', 'accepted')", name=op.f("ck_facade_streets_status")
        ),
        sa.CheckConstraint(
            "zone IN ('old_town', 'protection_zone', 'new_district')", name=op.f("ck_facade_streets_zone")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_facade_streets_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_facade_streets_district_code_districts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facade_streets")),
        sa.UniqueConstraint("code", name=op.f("uq_facade_streets_code")),
    )
    op.create_geospatial_index(
        "idx_facade_streets_geometry",
        "facade_streets",
        ["geometry"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_facade_streets_unit_code"), "facade_streets", ["unit_code"], unique=False)
    op.create_index(op.f("ix_facade_streets_year"), "facade_streets", ["year"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_facade_streets_year"), table_name="facade_streets")
    op.drop_index(op.f("ix_facade_streets_unit_code"), table_name="facade_streets")
    op.drop_geospatial_index(
        "idx_facade_streets_geometry", table_name="facade_streets", postgresql_using="gist", column_name="geometry"
    )
    op.drop_geospatial_table("facade_streets")
    op.drop_table("facade_targets")
    op.drop_table("facade_colour_rules")

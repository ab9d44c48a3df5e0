"""Facades (issue 11): colour rules per zone, yearly showcase-street targets per unit, showcase streets,
facade projects and their photos, colour checks of IFC model revisions

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

    op.create_geospatial_table(
        "facade_projects",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("street_id", sa.Uuid(), nullable=True),
        sa.Column("district_code", sa.String(length=12), nullable=False),
        sa.Column("zone", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=True),
        sa.Column("feature_id", sa.String(length=200), nullable=True),
        sa.Column(
            "footprint",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4490,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("orientation", sa.String(length=2), nullable=True),
        sa.Column("facade_area_m2", sa.Float(), nullable=True),
        sa.Column("measures", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("materials", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("signs", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("lighting", sa.Text(), nullable=False),
        sa.Column("budget_cny", sa.Float(), nullable=True),
        sa.Column("spent_cny", sa.Float(), nullable=True),
        sa.Column("funding_source", sa.String(length=300), nullable=False),
        sa.Column("contractor", sa.String(length=300), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("planned_end", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("actual_end", sa.Date(), nullable=True),
        sa.Column("colours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("colour_check", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("colour_outcome", sa.String(length=8), nullable=True),
        sa.Column("heritage", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("approval_documents", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('planned', 'design', 'approved', 'construction', 'completed', 'accepted')",
            name=op.f("ck_facade_projects_status"),
        ),
        sa.CheckConstraint(
            "zone IN ('old_town', 'protection_zone', 'new_district')", name=op.f("ck_facade_projects_zone")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_facade_projects_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_facade_projects_dataset_id_datasets"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_facade_projects_district_code_districts")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_facade_projects_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["street_id"],
            ["facade_streets.id"],
            name=op.f("fk_facade_projects_street_id_facade_streets"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facade_projects")),
        sa.UniqueConstraint("code", name=op.f("uq_facade_projects_code")),
    )
    op.create_geospatial_index(
        "idx_facade_projects_footprint",
        "facade_projects",
        ["footprint"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_facade_projects_district_code"), "facade_projects", ["district_code"], unique=False)
    op.create_index(op.f("ix_facade_projects_organization_id"), "facade_projects", ["organization_id"], unique=False)
    op.create_index(op.f("ix_facade_projects_status"), "facade_projects", ["status"], unique=False)
    op.create_index(op.f("ix_facade_projects_street_id"), "facade_projects", ["street_id"], unique=False)
    op.create_table(
        "facade_photos",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("captured_at", sa.DateTime(), nullable=True),
        sa.Column("direction_deg", sa.Float(), nullable=True),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("stage IN ('before', 'progress', 'after')", name=op.f("ck_facade_photos_stage")),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["facade_projects.id"],
            name=op.f("fk_facade_photos_project_id_facade_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["users.id"], name=op.f("fk_facade_photos_uploaded_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facade_photos")),
    )
    op.create_index(op.f("ix_facade_photos_project_id"), "facade_photos", ["project_id"], unique=False)

    op.create_table(
        "facade_model_checks",
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("zone", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "zone IN ('old_town', 'protection_zone', 'new_district')", name=op.f("ck_facade_model_checks_zone")
        ),
        sa.ForeignKeyConstraint(
            ["checked_by"], ["users.id"], name=op.f("fk_facade_model_checks_checked_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_facade_model_checks_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_facade_model_checks_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("revision_id", name=op.f("pk_facade_model_checks")),
    )
    op.create_index(op.f("ix_facade_model_checks_dataset_id"), "facade_model_checks", ["dataset_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_facade_model_checks_dataset_id"), table_name="facade_model_checks")
    op.drop_table("facade_model_checks")
    op.drop_index(op.f("ix_facade_photos_project_id"), table_name="facade_photos")
    op.drop_table("facade_photos")
    op.drop_index(op.f("ix_facade_projects_street_id"), table_name="facade_projects")
    op.drop_index(op.f("ix_facade_projects_status"), table_name="facade_projects")
    op.drop_index(op.f("ix_facade_projects_organization_id"), table_name="facade_projects")
    op.drop_index(op.f("ix_facade_projects_district_code"), table_name="facade_projects")
    op.drop_geospatial_index(
        "idx_facade_projects_footprint", table_name="facade_projects", postgresql_using="gist", column_name="footprint"
    )
    op.drop_geospatial_table("facade_projects")
    op.drop_index(op.f("ix_facade_streets_year"), table_name="facade_streets")
    op.drop_index(op.f("ix_facade_streets_unit_code"), table_name="facade_streets")
    op.drop_geospatial_index(
        "idx_facade_streets_geometry", table_name="facade_streets", postgresql_using="gist", column_name="geometry"
    )
    op.drop_geospatial_table("facade_streets")
    op.drop_table("facade_targets")
    op.drop_table("facade_colour_rules")

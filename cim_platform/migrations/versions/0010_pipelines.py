"""Underground pipelines (issue 15): the registry of segments and points, clearance rules, monitoring devices,
their readings and tokens, monitoring targets and the rate's history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pipeline_rate_snapshots",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit", sa.String(length=12), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("monitored_m", sa.Float(), nullable=False),
        sa.Column("total_m", sa.Float(), nullable=False),
        sa.Column("trigger", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_rate_snapshots")),
    )
    op.create_index(
        "ix_pipeline_rate_snapshots_unit_time",
        "pipeline_rate_snapshots",
        ["unit", "category", "taken_at"],
        unique=False,
    )
    op.create_table(
        "pipeline_clearance_rules",
        sa.Column("group_a", sa.String(length=24), nullable=False),
        sa.Column("group_b", sa.String(length=24), nullable=False),
        sa.Column("horizontal_m", sa.Float(), nullable=False),
        sa.Column("vertical_m", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("group_a <= group_b", name=op.f("ck_pipeline_clearance_rules_ordered")),
        sa.CheckConstraint("horizontal_m >= 0 AND vertical_m >= 0", name=op.f("ck_pipeline_clearance_rules_positive")),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_pipeline_clearance_rules_updated_by_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("group_a", "group_b", name=op.f("pk_pipeline_clearance_rules")),
    )
    op.create_table(
        "pipeline_device_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_pipeline_device_tokens_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_pipeline_device_tokens_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_device_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_pipeline_device_tokens_token_sha256")),
    )
    op.create_index(
        op.f("ix_pipeline_device_tokens_organization_id"), "pipeline_device_tokens", ["organization_id"], unique=False
    )
    op.create_table(
        "pipeline_monitoring_targets",
        sa.Column("unit", sa.String(length=12), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.CheckConstraint("share >= 0 AND share <= 1", name=op.f("ck_pipeline_monitoring_targets_share")),
        sa.ForeignKeyConstraint(
            ["updated_by"],
            ["users.id"],
            name=op.f("fk_pipeline_monitoring_targets_updated_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("unit", name=op.f("pk_pipeline_monitoring_targets")),
    )
    op.create_table(
        "pipeline_devices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("segment_code", sa.String(length=200), nullable=True),
        sa.Column("point_code", sa.String(length=100), nullable=True),
        sa.Column("last_reading_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind IN ('flow', 'pressure', 'level', 'gas_leak', 'temperature', 'cover_open', 'other')",
            name=op.f("ck_pipeline_devices_kind"),
        ),
        sa.CheckConstraint("state IN ('active', 'offline')", name=op.f("ck_pipeline_devices_state")),
        sa.CheckConstraint(
            "(segment_code IS NULL) <> (point_code IS NULL)", name=op.f("ck_pipeline_devices_attached_once")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_pipeline_devices_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_pipeline_devices_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_pipeline_devices_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_devices")),
        sa.UniqueConstraint("code", name=op.f("uq_pipeline_devices_code")),
    )
    op.create_index(op.f("ix_pipeline_devices_dataset_id"), "pipeline_devices", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_pipeline_devices_organization_id"), "pipeline_devices", ["organization_id"], unique=False)
    op.create_geospatial_table(
        "pipeline_points",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=True),
        sa.Column("feature", sa.String(length=24), nullable=False),
        sa.Column("ground_elevation", sa.Float(), nullable=True),
        sa.Column("depth", sa.Float(), nullable=True),
        sa.Column("manhole_size_m", sa.Float(), nullable=True),
        sa.Column("owner", sa.String(length=300), nullable=True),
        sa.Column("district_code", sa.String(length=12), nullable=True),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINTZ",
                srid=4490,
                dimension=3,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_pipeline_points_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_pipeline_points_district_code_districts")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_pipeline_points_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_points")),
        sa.UniqueConstraint("dataset_id", "code", name="uq_pipeline_points_dataset_code"),
    )
    op.create_geospatial_index(
        "idx_pipeline_points_geom",
        "pipeline_points",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_pipeline_points_category"), "pipeline_points", ["category"], unique=False)
    op.create_index(op.f("ix_pipeline_points_dataset_id"), "pipeline_points", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_pipeline_points_district_code"), "pipeline_points", ["district_code"], unique=False)
    op.create_index(op.f("ix_pipeline_points_owner"), "pipeline_points", ["owner"], unique=False)
    op.create_table(
        "pipeline_readings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["pipeline_devices.id"],
            name=op.f("fk_pipeline_readings_device_id_pipeline_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_readings")),
    )
    op.create_index("ix_pipeline_readings_device_time", "pipeline_readings", ["device_id", "measured_at"], unique=False)
    op.create_geospatial_table(
        "pipeline_segments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column("start_code", sa.String(length=100), nullable=False),
        sa.Column("end_code", sa.String(length=100), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("round", sa.Boolean(), nullable=False),
        sa.Column("diameter_mm", sa.Float(), nullable=True),
        sa.Column("width_mm", sa.Float(), nullable=True),
        sa.Column("height_mm", sa.Float(), nullable=True),
        sa.Column("material", sa.String(length=100), nullable=True),
        sa.Column("pressure", sa.String(length=100), nullable=True),
        sa.Column("voltage", sa.String(length=100), nullable=True),
        sa.Column("laying", sa.String(length=100), nullable=True),
        sa.Column("ducts", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=300), nullable=True),
        sa.Column("construction_year", sa.Integer(), nullable=True),
        sa.Column("survey_date", sa.String(length=40), nullable=True),
        sa.Column("start_depth", sa.Float(), nullable=True),
        sa.Column("end_depth", sa.Float(), nullable=True),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("district_code", sa.String(length=12), nullable=True),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRINGZ",
                srid=4490,
                dimension=3,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["datasets.id"], name=op.f("fk_pipeline_segments_dataset_id_datasets"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_pipeline_segments_district_code_districts")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_pipeline_segments_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_segments")),
        sa.UniqueConstraint("dataset_id", "code", name="uq_pipeline_segments_dataset_code"),
    )
    op.create_geospatial_index(
        "idx_pipeline_segments_geom",
        "pipeline_segments",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_pipeline_segments_category"), "pipeline_segments", ["category"], unique=False)
    op.create_index(op.f("ix_pipeline_segments_dataset_id"), "pipeline_segments", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_pipeline_segments_district_code"), "pipeline_segments", ["district_code"], unique=False)
    op.create_index(op.f("ix_pipeline_segments_material"), "pipeline_segments", ["material"], unique=False)
    op.create_index(op.f("ix_pipeline_segments_owner"), "pipeline_segments", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_pipeline_segments_owner"), table_name="pipeline_segments")
    op.drop_index(op.f("ix_pipeline_segments_material"), table_name="pipeline_segments")
    op.drop_index(op.f("ix_pipeline_segments_district_code"), table_name="pipeline_segments")
    op.drop_index(op.f("ix_pipeline_segments_dataset_id"), table_name="pipeline_segments")
    op.drop_index(op.f("ix_pipeline_segments_category"), table_name="pipeline_segments")
    op.drop_geospatial_index(
        "idx_pipeline_segments_geom", table_name="pipeline_segments", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("pipeline_segments")
    op.drop_index("ix_pipeline_readings_device_time", table_name="pipeline_readings")
    op.drop_table("pipeline_readings")
    op.drop_index(op.f("ix_pipeline_points_owner"), table_name="pipeline_points")
    op.drop_index(op.f("ix_pipeline_points_district_code"), table_name="pipeline_points")
    op.drop_index(op.f("ix_pipeline_points_dataset_id"), table_name="pipeline_points")
    op.drop_index(op.f("ix_pipeline_points_category"), table_name="pipeline_points")
    op.drop_geospatial_index(
        "idx_pipeline_points_geom", table_name="pipeline_points", postgresql_using="gist", column_name="geom"
    )
    op.drop_geospatial_table("pipeline_points")
    op.drop_index(op.f("ix_pipeline_devices_organization_id"), table_name="pipeline_devices")
    op.drop_index(op.f("ix_pipeline_devices_dataset_id"), table_name="pipeline_devices")
    op.drop_table("pipeline_devices")
    op.drop_table("pipeline_monitoring_targets")
    op.drop_index(op.f("ix_pipeline_device_tokens_organization_id"), table_name="pipeline_device_tokens")
    op.drop_table("pipeline_device_tokens")
    op.drop_table("pipeline_clearance_rules")
    op.drop_index("ix_pipeline_rate_snapshots_unit_time", table_name="pipeline_rate_snapshots")
    op.drop_table("pipeline_rate_snapshots")

"""Datasets, revisions and tile contents in PostGIS, with the city's districts

Revision ID: 0002_datasets
Revises: 0001_foundation
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002_datasets"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

DISTRICTS = [
    # code, slug, name, name_zh, kind, CGCS2000 3-degree GK zone, seat lon, seat lat (approximate)
    ("150602", "dongsheng", "Dongsheng District", "东胜区", "district", 4546, 109.963, 39.823),
    ("150603", "kangbashi", "Kangbashi District", "康巴什区", "district", 4546, 109.790, 39.608),
    ("150621", "dalad", "Dalad Banner", "达拉特旗", "banner", 4546, 110.034, 40.412),
    ("150622", "jungar", "Jungar Banner", "准格尔旗", "banner", 4546, 111.240, 39.864),
    ("150623", "otog-front", "Otog Front Banner", "鄂托克前旗", "banner", 4545, 107.478, 38.182),
    ("150624", "otog", "Otog Banner", "鄂托克旗", "banner", 4545, 107.976, 39.090),
    ("150625", "hanggin", "Hanggin Banner", "杭锦旗", "banner", 4545, 108.736, 39.833),
    ("150626", "uxin", "Uxin Banner", "乌审旗", "banner", 4545, 108.818, 38.604),
    ("150627", "ejin-horo", "Ejin Horo Banner", "伊金霍洛旗", "banner", 4546, 109.748, 39.565),
]


def upgrade() -> None:
    op.create_geospatial_table(
        "districts",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("name_zh", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("epsg", sa.Integer(), nullable=False),
        sa.Column(
            "seat",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
        sa.UniqueConstraint("slug", name=op.f("uq_districts_slug")),
    )
    op.create_geospatial_table(
        "datasets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("district_code", sa.String(length=12), nullable=True),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("lod", sa.String(length=16), nullable=True),
        sa.Column("published_revision_id", sa.Uuid(), nullable=True),
        sa.Column(
            "footprint",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('ifc', 'pointcloud', 'mesh', 'footprints')", name=op.f("ck_datasets_kind")),
        sa.CheckConstraint("visibility IN ('public', 'internal')", name=op.f("ck_datasets_visibility")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_datasets_created_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["district_code"], ["districts.code"], name=op.f("fk_datasets_district_code_districts")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_datasets_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_datasets")),
    )
    op.create_geospatial_index(
        "idx_datasets_footprint",
        "datasets",
        ["footprint"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_datasets_district_code"), "datasets", ["district_code"], unique=False)
    op.create_index(op.f("ix_datasets_kind"), "datasets", ["kind"], unique=False)
    op.create_index(op.f("ix_datasets_organization_id"), "datasets", ["organization_id"], unique=False)
    op.create_geospatial_table(
        "dataset_revisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("dataset_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("source_filename", sa.String(length=500), nullable=False),
        sa.Column("source_path", sa.String(length=1000), nullable=False),
        sa.Column("source_bytes", sa.BigInteger(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("convert_params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("tileset", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("report", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("crs", sa.String(length=100), nullable=True),
        sa.Column("georef_source", sa.String(length=100), nullable=True),
        sa.Column(
            "origin",
            Geometry(
                geometry_type="POINTZ",
                srid=4326,
                dimension=3,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("origin_ecef", postgresql.ARRAY(sa.Float()), nullable=True),
        sa.Column("root_transform", postgresql.ARRAY(sa.Float()), nullable=True),
        sa.Column(
            "footprint",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("min_height", sa.Float(), nullable=True),
        sa.Column("max_height", sa.Float(), nullable=True),
        sa.Column("tile_count", sa.Integer(), nullable=False),
        sa.Column("tile_bytes", sa.BigInteger(), nullable=False),
        sa.Column("converted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'ready', 'failed', 'cancelled')", name=op.f("ck_dataset_revisions_state")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_dataset_revisions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["datasets.id"],
            name=op.f("fk_dataset_revisions_dataset_id_datasets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_dataset_revisions_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_revisions")),
        sa.UniqueConstraint("dataset_id", "number", name="uq_dataset_revisions_dataset_number"),
    )
    op.create_geospatial_index(
        "idx_dataset_revisions_footprint",
        "dataset_revisions",
        ["footprint"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_dataset_revisions_dataset_id"), "dataset_revisions", ["dataset_id"], unique=False)
    op.create_index(op.f("ix_dataset_revisions_source_sha256"), "dataset_revisions", ["source_sha256"], unique=False)
    op.create_foreign_key(
        op.f("fk_datasets_published_revision_id_dataset_revisions"),
        "datasets",
        "dataset_revisions",
        ["published_revision_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_geospatial_table(
        "tile_contents",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("geometric_error", sa.Float(), nullable=True),
        sa.Column(
            "bounds",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("min_height", sa.Float(), nullable=True),
        sa.Column("max_height", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_tile_contents_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tile_contents")),
        sa.UniqueConstraint("revision_id", "path", name="uq_tile_contents_revision_path"),
    )
    op.create_geospatial_index(
        "idx_tile_contents_bounds",
        "tile_contents",
        ["bounds"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    districts = sa.table(
        "districts",
        sa.column("code"),
        sa.column("slug"),
        sa.column("name"),
        sa.column("name_zh"),
        sa.column("kind"),
        sa.column("epsg"),
    )
    op.bulk_insert(
        districts,
        [{"code": c, "slug": s, "name": n, "name_zh": z, "kind": k, "epsg": e} for c, s, n, z, k, e, _, _ in DISTRICTS],
    )
    for code, *_rest, lon, lat in DISTRICTS:
        op.execute(f"UPDATE districts SET seat = ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326) WHERE code = '{code}'")


def downgrade() -> None:
    op.drop_constraint(op.f("fk_datasets_published_revision_id_dataset_revisions"), "datasets", type_="foreignkey")
    op.drop_geospatial_index(
        "idx_tile_contents_bounds", table_name="tile_contents", postgresql_using="gist", column_name="bounds"
    )
    op.drop_geospatial_table("tile_contents")
    op.drop_index(op.f("ix_dataset_revisions_source_sha256"), table_name="dataset_revisions")
    op.drop_index(op.f("ix_dataset_revisions_dataset_id"), table_name="dataset_revisions")
    op.drop_geospatial_index(
        "idx_dataset_revisions_footprint",
        table_name="dataset_revisions",
        postgresql_using="gist",
        column_name="footprint",
    )
    op.drop_geospatial_table("dataset_revisions")
    op.drop_index(op.f("ix_datasets_organization_id"), table_name="datasets")
    op.drop_index(op.f("ix_datasets_kind"), table_name="datasets")
    op.drop_index(op.f("ix_datasets_district_code"), table_name="datasets")
    op.drop_geospatial_index(
        "idx_datasets_footprint", table_name="datasets", postgresql_using="gist", column_name="footprint"
    )
    op.drop_geospatial_table("datasets")
    op.drop_geospatial_table("districts")

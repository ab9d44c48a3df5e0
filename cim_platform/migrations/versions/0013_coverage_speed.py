"""Coverage speed (issue 12): the polygons of each published revision's footprint stored once, valid, with
their geodesic area and a hash, in a GIST-indexed table, and which of them overlap (interiors meet), instead
of being dumped and compared on every computation; filled for the revisions published so far

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# the same statement as cim_platform.coverage.parts.STORE_SQL, for every published ready revision
BACKFILL = """
    INSERT INTO coverage_revision_parts (revision_id, geom, area_m2, geom_hash)
    SELECT r.id, v.geom, ST_Area(v.geom::geography), md5(ST_AsBinary(v.geom))::uuid
      FROM datasets d
      JOIN dataset_revisions r ON r.id = d.published_revision_id
      CROSS JOIN LATERAL (
        SELECT (ST_Dump(CASE WHEN ST_IsValid(f.geom) THEN f.geom
                             ELSE ST_CollectionExtract(ST_MakeValid(f.geom), 3) END)).geom
          FROM (SELECT (ST_Dump(r.footprint)).geom) f
      ) v
     WHERE r.state = 'ready' AND r.footprint IS NOT NULL AND NOT ST_IsEmpty(v.geom)
"""
# the same as cim_platform.coverage.parts.OVERLAPS_SQL, for every stored part
BACKFILL_OVERLAPS = """
    INSERT INTO coverage_part_overlaps (part_id, other_id)
    SELECT a.id, b.id
      FROM coverage_revision_parts a
      JOIN coverage_revision_parts b ON b.geom && a.geom AND b.id <> a.id AND b.geom_hash <> a.geom_hash
     WHERE ST_Relate(a.geom, b.geom, '2********')
"""


def upgrade() -> None:
    op.create_geospatial_table(
        "coverage_revision_parts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("revision_id", sa.Uuid(), nullable=False),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("geom_hash", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_coverage_revision_parts_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_revision_parts")),
    )
    op.create_geospatial_index(
        "idx_coverage_revision_parts_geom",
        "coverage_revision_parts",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(
        op.f("ix_coverage_revision_parts_revision_id"), "coverage_revision_parts", ["revision_id"], unique=False
    )
    op.create_table(
        "coverage_part_overlaps",
        sa.Column("part_id", sa.BigInteger(), nullable=False),
        sa.Column("other_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["part_id"],
            ["coverage_revision_parts.id"],
            name=op.f("fk_coverage_part_overlaps_part_id_coverage_revision_parts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["other_id"],
            ["coverage_revision_parts.id"],
            name=op.f("fk_coverage_part_overlaps_other_id_coverage_revision_parts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("part_id", "other_id", name=op.f("pk_coverage_part_overlaps")),
    )
    op.create_index(op.f("ix_coverage_part_overlaps_other_id"), "coverage_part_overlaps", ["other_id"], unique=False)
    op.execute(BACKFILL)
    op.execute(BACKFILL_OVERLAPS)


def downgrade() -> None:
    op.drop_index(op.f("ix_coverage_part_overlaps_other_id"), table_name="coverage_part_overlaps")
    op.drop_table("coverage_part_overlaps")
    op.drop_index(op.f("ix_coverage_revision_parts_revision_id"), table_name="coverage_revision_parts")
    op.drop_geospatial_index(
        "idx_coverage_revision_parts_geom",
        table_name="coverage_revision_parts",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("coverage_revision_parts")

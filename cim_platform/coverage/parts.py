"""The polygons of published footprints, stored once per revision (``coverage_revision_parts``).

At publication (the after-publish hook in ``jobs.py``) a revision's footprint is dumped into its polygons,
invalid ones made valid, each stored with its geodesic area and the MD5 of its WKB, GIST-indexed; and the
pairs of stored parts whose interiors meet (``coverage_part_overlaps``, identical parts excepted) are found
through the index. A computation then reads the parts near each built-up area, keeps the stored area of a
part lying within it, counts identical parts (the same building in several datasets) once by their hash,
adds up the parts that overlap no other selected part and unions only those that do. Storing is
serialised (a transaction-level advisory lock), so two publications at once both see each other's parts.
Revisions published before (or inserted without the hook) get their parts on first use.
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.orm import Session

STORE_SQL = """
    INSERT INTO coverage_revision_parts (revision_id, geom, area_m2, geom_hash)
    SELECT r.id, v.geom, ST_Area(v.geom::geography), md5(ST_AsBinary(v.geom))::uuid
      FROM dataset_revisions r
      CROSS JOIN LATERAL (
        SELECT (ST_Dump(CASE WHEN ST_IsValid(f.geom) THEN f.geom
                             ELSE ST_CollectionExtract(ST_MakeValid(f.geom), 3) END)).geom
          FROM (SELECT (ST_Dump(r.footprint)).geom) f
      ) v
     WHERE r.id = ANY(:ids) AND r.footprint IS NOT NULL AND NOT ST_IsEmpty(v.geom)
       AND NOT EXISTS (SELECT 1 FROM coverage_revision_parts p WHERE p.revision_id = r.id)
"""


OVERLAPS_SQL = """
    WITH new AS (SELECT id, geom, geom_hash FROM coverage_revision_parts WHERE revision_id = ANY(:ids)),
    found AS (
      SELECT a.id AS a, b.id AS b
        FROM new a
        JOIN coverage_revision_parts b ON b.geom && a.geom AND b.id <> a.id AND b.geom_hash <> a.geom_hash
       WHERE ST_Relate(a.geom, b.geom, '2********')
    )
    INSERT INTO coverage_part_overlaps (part_id, other_id)
    SELECT a, b FROM found UNION SELECT b, a FROM found
    ON CONFLICT DO NOTHING
"""
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('coverage_revision_parts'))"


def store_parts(session: Session, revision_ids: list[uuid.UUID]) -> None:
    """Store the parts of these revisions' footprints and their overlaps, unless stored already."""
    if not revision_ids:
        return
    session.execute(text(LOCK_SQL))
    missing = list(
        session.scalars(
            text(
                """SELECT r.id FROM dataset_revisions r WHERE r.id = ANY(:ids)
                     AND NOT EXISTS (SELECT 1 FROM coverage_revision_parts p WHERE p.revision_id = r.id)"""
            ),
            {"ids": revision_ids},
        )
    )
    if missing:
        session.execute(text(STORE_SQL), {"ids": missing})
        session.execute(text(OVERLAPS_SQL), {"ids": missing})


def store_missing_parts(session: Session, selected_sql: str, params: dict[str, object]) -> None:
    """Store the parts of the selected published revisions that have none yet (``selected_sql`` yields
    ``revision_id``)."""
    missing = list(
        session.scalars(
            text(
                f"""SELECT s.revision_id FROM ({selected_sql}) s
                     WHERE NOT EXISTS (SELECT 1 FROM coverage_revision_parts p WHERE p.revision_id = s.revision_id)"""
            ),
            params,
        )
    )
    store_parts(session, missing)

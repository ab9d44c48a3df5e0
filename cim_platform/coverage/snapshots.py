"""Snapshots: a computed coverage stored with its time, definition, inputs and figures per unit.

The inputs of a unit are its built-up area (row, year, SHA-256 of the geometry), its inventory (count
and id range) and the published revisions (id, kind, CIM level) with a stored footprint part
(``parts.py``) whose bounding box touches the built-up area's (or whose footprint's box touches the
inventory's): a box touching without the polygon only costs a needless recomputation, never a wrong figure; their
hash (``unit_hash``) decides whether a unit is recomputed: a unit whose inputs an earlier snapshot
already had is copied from it, so one new dataset in one district recomputes that district only. The
snapshot's ``inputs_hash`` (definition + every unit hash) makes recomputing with unchanged inputs
answer the stored snapshot.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.db.base import utcnow
from cim_platform.coverage.areas import all_units
from cim_platform.coverage.compute import BUILT_SQL, SELECTED_SQL, UnitFigure, add_up, compute_units, year_of
from cim_platform.coverage.definition import Definition, digest
from cim_platform.coverage.errors import NoSnapshot
from cim_platform.coverage.models import CITY, Snapshot, SnapshotFigure
from cim_platform.coverage.parts import store_missing_parts

INPUTS_SQL = f"""
    WITH built AS ({BUILT_SQL}),
    sel AS MATERIALIZED ({SELECTED_SQL}),
    inv AS (
      SELECT unit_code, count(*) AS n, min(id) AS lo, max(id) AS hi,
             ST_SetSRID(ST_Extent(footprint)::geometry, 4326) AS ext
        FROM coverage_inventory_buildings WHERE unit_code = ANY(:units) GROUP BY unit_code
    )
    SELECT u.code, b.id::text, b.year, b.geom_sha256, inv.n, inv.lo, inv.hi,
           (SELECT coalesce(json_agg(json_build_array(s.revision_id::text, s.kind, s.level)
                                     ORDER BY s.revision_id), '[]'::json)
              FROM sel s
             WHERE (b.geom IS NOT NULL AND s.footprint && b.geom
                    AND EXISTS (SELECT 1 FROM coverage_revision_parts p
                                 WHERE p.revision_id = s.revision_id AND p.geom && b.geom))
                OR (inv.ext IS NOT NULL AND s.footprint && inv.ext)) AS revisions
      FROM coverage_units u
      LEFT JOIN built b ON b.unit_code = u.code
      LEFT JOIN inv ON inv.unit_code = u.code
     WHERE u.code = ANY(:units)
"""


@dataclass
class Result:
    definition: Definition
    figures: dict[str, UnitFigure]  # unit code (and 'city') → figure
    inputs_hash: str
    snapshot: Snapshot | None = None
    reused: bool = False  # an existing snapshot answered (unchanged inputs)
    computed: list[str] = field(default_factory=list)  # units computed now (the rest came from earlier snapshots)
    duration_ms: float = 0.0


def unit_inputs(session: Session, definition: Definition, codes: list[str]) -> dict[str, dict[str, Any]]:
    params = {"year": year_of(definition), "units": codes, "level": definition.level, "kind": definition.kind}
    store_missing_parts(session, SELECTED_SQL, params)  # the inputs are read from the stored parts
    inputs: dict[str, dict[str, Any]] = {}
    for code, built_id, year, sha, count, low, high, revisions in session.execute(text(INPUTS_SQL), params):
        inputs[code] = {
            "built_up": [built_id, year, sha] if built_id else None,
            "inventory": [count, low, high] if count else None,
            "revisions": revisions,
        }
    return inputs


def _figure(row: SnapshotFigure) -> UnitFigure:
    breakdown = row.breakdown or {}
    return UnitFigure(
        row.unit_code,
        built_up_year=row.built_up_year,
        built_up_m2=row.built_up_m2,
        covered_m2=row.covered_m2,
        by_kind=dict(breakdown.get("kind", {})),
        by_level=dict(breakdown.get("level", {})),
        buildings=row.buildings,
        buildings_covered=row.buildings_covered,
    )


def figures_of(session: Session, snapshot: Snapshot) -> dict[str, UnitFigure]:
    rows = session.scalars(select(SnapshotFigure).where(SnapshotFigure.snapshot_id == snapshot.id))
    return {row.unit_code: _figure(row) for row in rows}


def evaluate(
    session: Session,
    definition: Definition,
    *,
    store: bool,
    trigger: str = "demand",
    caller: Caller | None = None,
) -> Result:
    """The coverage now: a stored snapshot when the inputs are unchanged, else computed (units whose
    inputs an earlier snapshot had are copied) and, with ``store``, stored as a new snapshot."""
    started = time.perf_counter()
    units = all_units(session)
    codes = [unit.code for unit in units]
    inputs = unit_inputs(session, definition, codes)
    hashes = {
        code: digest({"definition": definition.as_dict(), "unit": code, "inputs": inputs[code]}) for code in codes
    }
    inputs_hash = digest({"definition": definition.as_dict(), "units": hashes})
    existing = session.scalar(select(Snapshot).where(Snapshot.inputs_hash == inputs_hash))
    if existing is not None:
        return Result(definition, figures_of(session, existing), inputs_hash, existing, reused=True)
    figures: dict[str, UnitFigure] = {}
    for code in codes:
        earlier = session.scalar(select(SnapshotFigure).where(SnapshotFigure.unit_hash == hashes[code]).limit(1))
        if earlier is not None:
            figures[code] = _figure(earlier)
    computed = [code for code in codes if code not in figures]
    figures.update(compute_units(session, definition, computed))
    figures[CITY] = add_up(CITY, [figures[u.code] for u in units if u.parent_code is None])
    result = Result(definition, figures, inputs_hash, computed=computed)
    result.duration_ms = (time.perf_counter() - started) * 1000
    if store:
        result.snapshot = _store(session, result, hashes, inputs, trigger, caller)
    return result


def _store(
    session: Session,
    result: Result,
    hashes: dict[str, str],
    inputs: dict[str, dict[str, Any]],
    trigger: str,
    caller: Caller | None,
) -> Snapshot:
    snapshot = Snapshot(
        id=uuid.uuid4(),
        taken_at=utcnow(),
        definition=result.definition.as_dict(),
        definition_key=result.definition.key,
        inputs_hash=result.inputs_hash,
        inputs={"units": inputs, "computed": result.computed},
        trigger=trigger,
        duration_ms=result.duration_ms,
        created_by=caller.user_id if caller else None,
    )
    try:
        with session.begin_nested():
            session.add(snapshot)
            session.flush()
            for code, figure in result.figures.items():
                session.add(
                    SnapshotFigure(
                        snapshot_id=snapshot.id,
                        unit_code=code,
                        unit_hash=hashes.get(code, result.inputs_hash),
                        built_up_year=figure.built_up_year,
                        built_up_m2=figure.built_up_m2,
                        covered_m2=figure.covered_m2,
                        share=figure.share,
                        buildings=figure.buildings,
                        buildings_covered=figure.buildings_covered,
                        breakdown=figure.breakdown,
                    )
                )
            session.flush()
    except IntegrityError:  # the same inputs stored meanwhile by another process: answer that one
        stored = session.scalar(select(Snapshot).where(Snapshot.inputs_hash == result.inputs_hash))
        if stored is None:
            raise
        result.reused = True
        return stored
    return snapshot


def snapshot_at(session: Session, definition: Definition, at: datetime) -> Snapshot:
    """The latest snapshot of this definition taken at or before ``at``."""
    snapshot = session.scalar(
        select(Snapshot)
        .where(Snapshot.definition_key == definition.key, Snapshot.taken_at <= at)
        .order_by(Snapshot.taken_at.desc())
        .limit(1)
    )
    if snapshot is None:
        raise NoSnapshot("no coverage snapshot of this definition at or before that time", params={"at": str(at)})
    return snapshot


def get_snapshot(session: Session, snapshot_id: uuid.UUID) -> Snapshot:
    snapshot = session.get(Snapshot, snapshot_id)
    if snapshot is None:
        raise NoSnapshot(f"no coverage snapshot {snapshot_id}")
    return snapshot


def history(session: Session, definition: Definition, unit: str) -> list[tuple[Snapshot, UnitFigure]]:
    """Every snapshot of the definition with the unit's figure, oldest first."""
    rows = session.execute(
        select(Snapshot, SnapshotFigure)
        .join(SnapshotFigure, SnapshotFigure.snapshot_id == Snapshot.id)
        .where(Snapshot.definition_key == definition.key, SnapshotFigure.unit_code == unit)
        .order_by(Snapshot.taken_at, Snapshot.id)
    ).all()
    return [(snapshot, _figure(figure)) for snapshot, figure in rows]

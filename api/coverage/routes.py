"""Coverage figures under /api/v1/coverage: now or at a time, history, snapshots, CSV, map, SVG chart.

Anonymous callers read the city figure (with its definition and targets) and its history: the plan's
headline figure is public. Every signed-in role reads the figures per unit, the CSV, the map and the
snapshots; taking a snapshot on demand needs ``coverage:admin`` (officials, admins).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from api.coverage.schemas import (
    CoverageOut,
    HistoryOut,
    HistoryPoint,
    SnapshotJobOut,
    SnapshotList,
    SnapshotOut,
    SnapshotRequest,
)
from api.coverage.views import definition, definition_out, figure_out, signed_in, target_out, unit_names
from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep
from cim_platform.core.jobs import service as jobs
from cim_platform.coverage import areas, mapping, reports, snapshots, targets
from cim_platform.coverage.compute import UnitFigure
from cim_platform.coverage.definition import Definition
from cim_platform.coverage.jobs import SNAPSHOT_TASK
from cim_platform.coverage.models import CITY, Snapshot
from cim_platform.coverage.scopes import CoverageScope

router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"])

Level = Annotated[str | None, Query(max_length=8, description="CIM level at or above which datasets count: CIM1…CIM7")]
Kind = Annotated[str | None, Query(max_length=16, description="one source kind (dataset kind) only")]
Year = Annotated[int | None, Query(ge=1900, le=2200, description="built-up areas of this year or the latest before")]
At = Annotated[datetime | None, Query(description="the latest stored snapshot at or before this time")]
Unit = Annotated[str, Query(min_length=1, max_length=80, description="'city', or a unit's code, slug or name")]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@router.get("", response_model=CoverageOut)
def get_coverage(
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    level: Level = None,
    kind: Kind = None,
    year: Year = None,
    at: At = None,
) -> CoverageOut:
    """The coverage per unit and for the city, with the definition used. Without ``at``: now (the stored
    snapshot when its inputs are unchanged, else computed and not stored); with ``at``: the snapshot
    of that time."""
    wanted = definition(settings, level, kind, year)
    snapshot: Snapshot | None
    if at is not None:
        stored = snapshots.snapshot_at(session, wanted, _utc(at))
        figures, snapshot, computed, inputs_hash = snapshots.figures_of(session, stored), stored, [], stored.inputs_hash
    else:
        result = snapshots.evaluate(session, wanted, store=False)
        figures, snapshot, computed, inputs_hash = result.figures, result.snapshot, result.computed, result.inputs_hash
    names = unit_names(session)
    units = [figure_out(figures[code], names) for code in names if code != CITY and code in figures]
    city_targets = [t for t in targets.list_targets(session) if caller.authenticated or t.unit_code == CITY]
    answer = CoverageOut(
        definition=definition_out(wanted),
        snapshot_id=snapshot.id if snapshot else None,
        taken_at=snapshot.taken_at if snapshot else None,
        inputs_hash=inputs_hash,
        computed_units=computed,
        city=figure_out(figures[CITY], names),
        units=units if caller.authenticated else [],
        targets=[target_out(session, settings, t) for t in city_targets],
    )
    session.rollback()  # the computation's temporary table
    return answer


def _history(session: SessionDep, settings: SettingsDep, unit: str, wanted: Definition) -> HistoryOut:
    code = targets.unit_code_of(session, unit)
    points = [
        HistoryPoint(
            snapshot_id=snapshot.id,
            taken_at=snapshot.taken_at,
            trigger=snapshot.trigger,
            share=figure.share,
            covered_m2=round(figure.covered_m2, 2),
            built_up_m2=round(figure.built_up_m2, 2),
        )
        for snapshot, figure in snapshots.history(session, wanted, code)
    ]
    unit_targets = [t for t in targets.list_targets(session, code) if t.min_level == wanted.level]
    return HistoryOut(
        unit=code,
        definition=definition_out(wanted),
        points=points,
        targets=[target_out(session, settings, t) for t in unit_targets],
    )


@router.get("/history", response_model=HistoryOut)
def coverage_history(
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    unit: Unit = CITY,
    level: Level = None,
    kind: Kind = None,
) -> HistoryOut:
    """The snapshots of the definition for one unit (or the city), oldest first, with the unit's targets
    (reached when, on track or behind)."""
    if unit.strip().lower() != CITY:
        signed_in(caller)
    return _history(session, settings, unit, definition(settings, level, kind, None))


@router.get(
    "/history.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "The history chart with the target lines"}},
)
def coverage_history_svg(
    caller: CallerDep, session: SessionDep, settings: SettingsDep, unit: Unit = CITY, level: Level = None
) -> Response:
    """The history as a plain SVG chart (no script), with each target as a dashed line: for reports."""
    if unit.strip().lower() != CITY:
        signed_in(caller)
    history = _history(session, settings, unit, definition(settings, level, None, None))
    points = [(p.taken_at, p.share) for p in history.points if p.share is not None]
    chart_targets = [reports.ChartTarget(t.due_date, t.share) for t in history.targets]
    title = f"3D data coverage, {history.unit}, {history.definition.level_name} and above"
    return Response(reports.history_svg(title, points, chart_targets), media_type="image/svg+xml")


@router.get(
    "/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per unit and the city"}},
)
def export_coverage(
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    level: Level = None,
    kind: Kind = None,
    year: Year = None,
    at: At = None,
) -> Response:
    """The coverage as CSV (UTF-8), the breakdown per kind and level as extra columns."""
    signed_in(caller)
    answer = get_coverage(caller, session, settings, level, kind, year, at)
    rows = [answer.city, *answer.units]
    keys = sorted({k for row in rows for k in row.by_kind}) + sorted({k for row in rows for k in row.by_level})
    figures = [
        (
            row.unit,
            row.name,
            row.name_zh,
            UnitFigure(
                row.unit,
                row.built_up_year,
                row.built_up_m2,
                row.covered_m2,
                row.by_kind,
                row.by_level,
                row.buildings,
                row.buildings_covered,
            ),
        )
        for row in rows
    ]
    return Response(
        reports.to_csv(figures, keys),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="coverage.csv"'},
    )


@router.get(
    "/map",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}, "description": "Covered and uncovered built-up area"}},
)
def coverage_map(
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    level: Level = None,
    kind: Kind = None,
    year: Year = None,
    unit: Annotated[
        str | None, Query(max_length=80, description="one unit; default: the districts and banners")
    ] = None,
) -> Response:
    """The covered and uncovered built-up area per unit as GeoJSON (EPSG:4326), computed in PostGIS."""
    signed_in(caller)
    codes = [areas.find_unit(session, unit).code] if unit else [u.code for u in areas.district_units(session)]
    body = mapping.coverage_map(session, definition(settings, level, kind, year), codes)
    session.rollback()
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/geo+json")


@router.get(
    "/boundaries",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}}, "description": "The units' boundaries"}},
)
def unit_boundaries(
    session: SessionDep,
    unit: Annotated[
        str | None, Query(max_length=80, description="one unit; default: every unit with a boundary")
    ] = None,
) -> Response:
    """The boundaries of the districts and banners (and towns) as GeoJSON (EPSG:4326), each with its
    ``source``: the demo's are synthetic and approximate, and say so."""
    codes = [areas.find_unit(session, unit).code] if unit else None
    body = mapping.boundaries(session, codes)
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/geo+json")


def _snapshot_out(session: SessionDep, snapshot: Snapshot, *, figures: bool) -> SnapshotOut:
    names = unit_names(session)
    rows = snapshots.figures_of(session, snapshot) if figures else {}
    return SnapshotOut(
        id=snapshot.id,
        taken_at=snapshot.taken_at,
        trigger=snapshot.trigger,
        definition=definition_out(Definition.from_dict(snapshot.definition)),
        inputs_hash=snapshot.inputs_hash,
        duration_ms=round(snapshot.duration_ms, 1),
        computed_units=list((snapshot.inputs or {}).get("computed", [])),
        figures=[figure_out(rows[code], names) for code in names if code in rows] if figures else None,
    )


@router.get("/snapshots", response_model=SnapshotList)
def list_snapshots(
    caller: CallerDep, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> SnapshotList:
    """Stored snapshots, newest first."""
    signed_in(caller)
    rows = session.scalars(select(Snapshot).order_by(Snapshot.taken_at.desc()).limit(limit))
    return SnapshotList(items=[_snapshot_out(session, s, figures=False) for s in rows])


@router.get("/snapshots/{snapshot_id}", response_model=SnapshotOut)
def get_snapshot(caller: CallerDep, session: SessionDep, snapshot_id: uuid.UUID) -> SnapshotOut:
    signed_in(caller)
    return _snapshot_out(session, snapshots.get_snapshot(session, snapshot_id), figures=True)


@router.post("/snapshots", status_code=202, response_model=SnapshotJobOut)
def take_snapshot(
    body: SnapshotRequest, request: Request, caller: CallerDep, settings: SettingsDep, engine: EngineDep
) -> SnapshotJobOut:
    """Take a snapshot now, in a background job (``coverage.snapshot``); unchanged inputs answer the
    stored snapshot. The job's result names the snapshots."""
    caller.require(CoverageScope.admin)
    params = {"trigger": "demand", **body.model_dump()}
    job_id = jobs.submit(
        settings, engine, SNAPSHOT_TASK, params, organization_id=caller.organization_id, user_id=caller.user_id
    )
    return SnapshotJobOut(
        job_id=job_id,
        links={
            "job": str(request.app.url_path_for("get_job", job_id=str(job_id))),
            "coverage": str(request.app.url_path_for("get_coverage")),
        },
    )

"""``cim coverage``: the coverage table; ``load-built-up`` and ``snapshot`` for operators.

The CLI acts as the platform's operator (an admin caller named ``cli``), on the database of the
settings (``CIM_DATABASE_URL`` or the private cluster).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller, Role
from cim_platform.core.db.engine import get_engine, session_scope
from cim_platform.core.settings import Settings
from cim_platform.coverage import areas, targets
from cim_platform.coverage.compute import UnitFigure
from cim_platform.coverage.definition import Definition
from cim_platform.coverage.geofiles import read_polygons
from cim_platform.coverage.jobs import queue_auto_snapshot
from cim_platform.coverage.levels import level_name, parse_level
from cim_platform.coverage.models import CITY
from cim_platform.coverage.snapshots import evaluate

coverage_app = typer.Typer(help="3D-data coverage: the table, built-up areas, snapshots", invoke_without_command=True)
OPERATOR = Caller(user_id=None, username="cli", organization_id=None, role=Role.admin)
LevelOption = Annotated[str, typer.Option(help="at or above this CIM level (CIM1…CIM7)")]


def _percent(value: float | None) -> str:
    return f"{value * 100:6.2f}%" if value is not None else "      –"


def format_table(session: Session, figures: dict[str, UnitFigure]) -> list[str]:
    lines = [
        f"{'unit':<10} {'name':<22} {'year':>4} {'built-up km²':>13} {'covered km²':>12} {'share':>7} {'buildings':>13}"
    ]
    names = {CITY: ("Ordos (city)", "")} | {u.code: (u.name, u.name_zh) for u in areas.all_units(session)}
    for code in [*(c for c in names if c != CITY), CITY]:
        figure = figures.get(code)
        if figure is None:
            continue
        buildings = f"{figure.buildings_covered}/{figure.buildings}" if figure.buildings else "–"
        lines.append(
            f"{code:<10} {names[code][0][:22]:<22} {figure.built_up_year or '–':>4} {figure.built_up_m2 / 1e6:13.3f} "
            f"{figure.covered_m2 / 1e6:12.3f} {_percent(figure.share):>7} {buildings:>13}"
        )
    return lines


@coverage_app.callback()
def coverage_table(
    context: typer.Context,
    level: LevelOption = "CIM1",
    kind: Annotated[str | None, typer.Option(help="one source kind only")] = None,
) -> None:
    """Print the coverage per unit and for the city (computed now; nothing stored), with the targets."""
    if context.invoked_subcommand is not None:
        return
    settings = Settings()
    definition = Definition(level=parse_level(level), kind=kind, count_share=settings.coverage_count_share)
    with session_scope(get_engine(settings)) as session:
        result = evaluate(session, definition, store=False)
        typer.echo(f"coverage at or above {level_name(definition.level)}" + (f", {kind} only" if kind else ""))
        for line in format_table(session, result.figures):
            typer.echo(line)
        for target in targets.list_targets(session):
            status = targets.target_status(session, target, datetime.now(UTC), settings.coverage_count_share)
            typer.echo(
                f"target {target.unit_code}: {target.share * 100:.0f}% at {level_name(target.min_level)}+ by "
                f"{target.due_date.isoformat()}: {status.state}"
            )
        session.rollback()


@coverage_app.command("load-built-up")
def load_built_up(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="GeoJSON or GeoPackage")],
    source: Annotated[str, typer.Option(help="yearbook, land_survey, city_checkup, demo, other")],
    unit: Annotated[str | None, typer.Option(help="the unit (else each feature's 'unit' property)")] = None,
    year: Annotated[int | None, typer.Option(help="the year (else each feature's 'year' property)")] = None,
    note: str = "",
    crs: Annotated[str | None, typer.Option(help="CRS of the coordinates, e.g. EPSG:4546")] = None,
) -> None:
    """Store built-up areas (replacing a unit's area of the same year) and queue a snapshot."""
    features = read_polygons(file.read_bytes(), file.name, crs=crs)
    with session_scope(get_engine(Settings())) as session:
        stored = areas.load_built_up(session, OPERATOR, features, unit=unit, year=year, source=source, note=note)
        queue_auto_snapshot(session, "built_up")
        for area in stored:
            typer.echo(f"{area.unit_code} {area.year}: {area.area_m2 / 1e6:.3f} km² ({area.source})")


@coverage_app.command("snapshot")
def take_snapshot(level: LevelOption = "CIM1") -> None:
    """Take (and store) a snapshot now; unchanged inputs answer the stored one."""
    settings = Settings()
    definition = Definition(level=parse_level(level), count_share=settings.coverage_count_share)
    with session_scope(get_engine(settings)) as session:
        result = evaluate(session, definition, store=True, trigger="demand", caller=OPERATOR)
        assert result.snapshot is not None
        state = "unchanged, stored snapshot" if result.reused else f"computed {len(result.computed)} unit(s)"
        typer.echo(f"snapshot {result.snapshot.id} ({state}): city {_percent(result.figures[CITY].share).strip()}")

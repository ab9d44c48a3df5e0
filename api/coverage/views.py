"""Domain objects → response models, shared by the coverage routes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.coverage.schemas import DefinitionOut, FigureOut, TargetOut
from cim_platform.core.access import Caller
from cim_platform.core.errors import Unauthenticated
from cim_platform.core.settings import Settings
from cim_platform.coverage import areas, targets
from cim_platform.coverage.compute import UnitFigure
from cim_platform.coverage.definition import DEFINITION_TEXT, Definition
from cim_platform.coverage.levels import level_name, parse_level
from cim_platform.coverage.models import CITY, Target


def signed_in(caller: Caller) -> None:
    if not caller.authenticated:
        raise Unauthenticated("coverage per unit needs signing in; the city figure is public")


def definition(settings: Settings, level: str | None, kind: str | None, year: int | None) -> Definition:
    return Definition(level=parse_level(level), kind=kind or None, year=year, count_share=settings.coverage_count_share)


def definition_out(value: Definition) -> DefinitionOut:
    return DefinitionOut(
        level=value.level,
        level_name=level_name(value.level),
        kind=value.kind,
        year=value.year,
        count_share=value.count_share,
        text=DEFINITION_TEXT,
    )


def unit_names(session: Session) -> dict[str, tuple[str, str, str, str | None]]:
    names: dict[str, tuple[str, str, str, str | None]] = {CITY: ("Ordos", "鄂尔多斯市", "city", None)}
    for unit in areas.all_units(session):
        names[unit.code] = (unit.name, unit.name_zh, unit.level, unit.parent_code)
    return names


def figure_out(figure: UnitFigure, names: dict[str, tuple[str, str, str, str | None]]) -> FigureOut:
    name, name_zh, level, parent = names.get(figure.unit_code, (figure.unit_code, "", "unit", None))
    return FigureOut(
        unit=figure.unit_code,
        name=name,
        name_zh=name_zh,
        level=level,
        parent=parent,
        built_up_year=figure.built_up_year,
        built_up_m2=round(figure.built_up_m2, 2),
        covered_m2=round(figure.covered_m2, 2),
        share=figure.share,
        buildings=figure.buildings,
        buildings_covered=figure.buildings_covered,
        count_share=(figure.buildings_covered or 0) / figure.buildings if figure.buildings else None,
        by_kind={k: round(v, 2) for k, v in sorted(figure.by_kind.items())},
        by_level={k: round(v, 2) for k, v in sorted(figure.by_level.items())},
    )


def target_out(session: Session, settings: Settings, target: Target) -> TargetOut:
    status = targets.target_status(session, target, datetime.now(UTC), settings.coverage_count_share)
    return TargetOut(
        id=target.id,
        unit=target.unit_code,
        due_date=target.due_date,
        share=target.share,
        min_level=target.min_level,
        note=target.note,
        state=status.state,
        reached_at=status.reached_at,
        latest_share=status.latest_share,
        projected_share=status.projected_share,
    )

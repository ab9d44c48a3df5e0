"""Yearly showcase-street targets per unit and the report: accepted, under way, target, on track or
behind. A unit is behind when its accepted plus under-way streets of the year cannot reach the target
by the year's end; once the year is over (``as_of`` after 31 December) only accepted streets count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import InvalidInput
from cim_platform.facades import units
from cim_platform.facades.models import Street, StreetStatus, Target
from cim_platform.facades.scopes import FacadesScope


@dataclass(frozen=True)
class UnitReport:
    unit: units.Unit
    year: int
    target: int
    target_is_default: bool
    accepted: int
    under_way: int
    candidates: int
    year_over: bool
    on_track: bool

    @property
    def state(self) -> str:
        return "on_track" if self.on_track else "behind"


def _check_year(year: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput("year must be within 2000–2100", params={"year": year})


def target_for(session: Session, unit_: units.Unit, year: int) -> tuple[int, bool]:
    row = session.get(Target, (unit_.code, year))
    return (row.target, False) if row else (units.default_target(unit_, year), True)


def set_target(session: Session, caller: Caller, unit_key: str, year: int, target: int, note: str = "") -> Target:
    caller.require(FacadesScope.admin)
    _check_year(year)
    if not 0 <= target <= 1000:
        raise InvalidInput("target must be within 0–1000", params={"target": target})
    unit_ = units.unit(unit_key)
    before_target, was_default = target_for(session, unit_, year)
    row = session.get(Target, (unit_.code, year))
    if row is None:
        row = Target(unit_code=unit_.code, year=year, target=target)
        session.add(row)
    row.target = target
    row.note = note
    row.updated_at = utcnow()
    row.updated_by = caller.user_id
    session.flush()
    record_change(
        session,
        caller,
        action="facades.target.set",
        object_type="facade_target",
        object_id=f"{unit_.code}/{year}",
        before={"target": before_target, "default": was_default},
        after={"target": target, "default": False, "note": note},
    )
    return row


def report(session: Session, year: int, as_of: date | None = None) -> list[UnitReport]:
    _check_year(year)
    today = as_of or date.today()
    year_over = today > date(year, 12, 31)
    counts: dict[tuple[str, str], int] = {
        (unit_code, status): int(n)
        for unit_code, status, n in session.execute(
            select(Street.unit_code, Street.status, func.count())
            .where(Street.year == year)
            .group_by(Street.unit_code, Street.status)
        )
    }
    overrides = {row.unit_code: row.target for row in session.scalars(select(Target).where(Target.year == year))}
    out: list[UnitReport] = []
    for unit_ in units.UNITS:
        accepted = counts.get((unit_.code, StreetStatus.accepted.value), 0)
        under_way = counts.get((unit_.code, StreetStatus.under_construction.value), 0)
        target = overrides.get(unit_.code, units.default_target(unit_, year))
        reachable = accepted if year_over else accepted + under_way
        out.append(
            UnitReport(
                unit=unit_,
                year=year,
                target=target,
                target_is_default=unit_.code not in overrides,
                accepted=accepted,
                under_way=under_way,
                candidates=counts.get((unit_.code, StreetStatus.candidate.value), 0),
                year_over=year_over,
                on_track=reachable >= target,
            )
        )
    return out

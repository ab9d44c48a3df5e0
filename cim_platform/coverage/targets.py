"""Targets per unit (or the city) and date, and where the history stands against them.

A target is reached when a snapshot of its definition (CIM level at or above ``min_level``, every
source kind, the latest built-up areas) taken on or before the due date shows the share; ``reached_at``
is the first such snapshot. Before the due date a target is ``on_track`` when the linear trend of the
snapshots so far (first to latest) reaches the share by the due date, else ``behind``; after it, a
target not reached in time is ``missed``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.errors import Conflict, InvalidInput, NotFound
from cim_platform.coverage.areas import find_unit
from cim_platform.coverage.compute import UnitFigure
from cim_platform.coverage.definition import Definition
from cim_platform.coverage.models import CITY, Snapshot, Target
from cim_platform.coverage.scopes import CoverageScope
from cim_platform.coverage.snapshots import history


@dataclass
class TargetStatus:
    state: str  # reached | on_track | behind | missed | no_data
    reached_at: datetime | None
    latest_share: float | None
    projected_share: float | None


def _fields(target: Target) -> dict[str, Any]:
    return {
        "unit_code": target.unit_code,
        "due_date": target.due_date.isoformat(),
        "share": target.share,
        "min_level": target.min_level,
        "note": target.note,
    }


def unit_code_of(session: Session, unit: str) -> str:
    return CITY if unit.strip().lower() == CITY else find_unit(session, unit).code


def list_targets(session: Session, unit: str | None = None) -> list[Target]:
    query = select(Target).order_by(Target.unit_code, Target.due_date, Target.min_level)
    if unit is not None:
        query = query.where(Target.unit_code == unit_code_of(session, unit))
    return list(session.scalars(query))


def get_target(session: Session, target_id: uuid.UUID) -> Target:
    target = session.get(Target, target_id)
    if target is None:
        raise NotFound(f"no coverage target {target_id}")
    return target


def _check(share: float, min_level: int) -> None:
    if not 0 < share <= 1:
        raise InvalidInput("share is a fraction in (0, 1], e.g. 0.3 for 30 %", params={"share": share})
    if not 1 <= min_level <= 7:
        raise InvalidInput("min_level must be 1 … 7", params={"min_level": min_level})


def _duplicate(session: Session, unit_code: str, due: date, min_level: int, but: uuid.UUID | None = None) -> None:
    query = select(Target.id).where(
        Target.unit_code == unit_code, Target.due_date == due, Target.min_level == min_level
    )
    found = session.scalar(query)
    if found is not None and found != but:
        raise Conflict("a target for this unit, date and level exists already", params={"target": str(found)})


def create_target(
    session: Session, caller: Caller, *, unit: str, due_date: date, share: float, min_level: int = 1, note: str = ""
) -> Target:
    caller.require(CoverageScope.admin)
    _check(share, min_level)
    code = unit_code_of(session, unit)
    _duplicate(session, code, due_date, min_level)
    target = Target(
        unit_code=code, due_date=due_date, share=share, min_level=min_level, note=note, created_by=caller.user_id
    )
    session.add(target)
    session.flush()
    record_change(
        session,
        caller,
        action="coverage.target.created",
        object_type="coverage_target",
        object_id=str(target.id),
        before=None,
        after=_fields(target),
    )
    return target


def update_target(session: Session, caller: Caller, target: Target, values: dict[str, Any]) -> Target:
    caller.require(CoverageScope.admin)
    before = _fields(target)
    if "unit" in values and values["unit"] is not None:
        target.unit_code = unit_code_of(session, values["unit"])
    for name in ("due_date", "share", "min_level", "note"):
        if values.get(name) is not None:
            setattr(target, name, values[name])
    _check(target.share, target.min_level)
    _duplicate(session, target.unit_code, target.due_date, target.min_level, but=target.id)
    session.flush()
    record_change(
        session,
        caller,
        action="coverage.target.updated",
        object_type="coverage_target",
        object_id=str(target.id),
        before=before,
        after=_fields(target),
    )
    return target


def delete_target(session: Session, caller: Caller, target: Target) -> None:
    caller.require(CoverageScope.admin)
    before = _fields(target)
    session.delete(target)
    session.flush()
    record_change(
        session,
        caller,
        action="coverage.target.deleted",
        object_type="coverage_target",
        object_id=str(target.id),
        before=before,
        after=None,
    )


def _end_of(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=UTC)


def status_of(points: list[tuple[Snapshot, UnitFigure]], target: Target, now: datetime) -> TargetStatus:
    due = _end_of(target.due_date)
    shares = [(snapshot.taken_at, figure.share) for snapshot, figure in points if figure.share is not None]
    if not shares:
        return TargetStatus("missed" if now > due else "no_data", None, None, None)
    reached = next((at for at, share in shares if share >= target.share - 1e-12), None)
    latest_at, latest = shares[-1]
    if reached is not None and reached <= due:
        return TargetStatus("reached", reached, latest, None)
    if now > due:
        return TargetStatus("missed", reached, latest, None)
    first_at, first = shares[0]
    span = (latest_at - first_at).total_seconds()
    rate = (latest - first) / span if span > 0 else 0.0
    projected = latest + rate * (due - latest_at).total_seconds()
    return TargetStatus("on_track" if projected >= target.share else "behind", None, latest, projected)


def target_status(session: Session, target: Target, now: datetime, count_share: float) -> TargetStatus:
    points = history(session, Definition(level=target.min_level, count_share=count_share), target.unit_code)
    return status_of(points, target, now)

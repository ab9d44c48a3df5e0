"""Progress of the facade programme per street, per district or banner, and city-wide: projects by
status, measures planned and done (m² of wall, shop signs, lights), budget and spending.

A measure counts as done by its ``done`` quantity when given, else in full once its project is
completed or accepted.
"""

from __future__ import annotations

import csv
import enum
import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs among the dev dependencies
from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.facades import units
from cim_platform.facades.models import MeasureKind, Project, ProjectStatus, Street
from cim_platform.facades.scopes import FacadesScope

DONE_STATUSES = {ProjectStatus.completed.value, ProjectStatus.accepted.value}
WALL_KINDS = {MeasureKind.wall_renewal.value, MeasureKind.unified_facade.value}


class GroupBy(enum.StrEnum):
    street = "street"
    district = "district"
    city = "city"


@dataclass
class ProgressRow:
    key: str  # street id, district code or "city"
    label: str
    projects: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in ProjectStatus})
    wall_m2_planned: float = 0.0
    wall_m2_done: float = 0.0
    signs_planned: float = 0.0
    signs_done: float = 0.0
    lights_planned: float = 0.0
    lights_done: float = 0.0
    budget_cny: float = 0.0
    spent_cny: float = 0.0

    def add(self, project: Project) -> None:
        self.projects += 1
        self.by_status[project.status] += 1
        finished = project.status in DONE_STATUSES
        for measure in project.measures or []:
            quantity = float(measure.get("quantity") or 0)
            done = measure.get("done")
            done_quantity = float(done) if done is not None else (quantity if finished else 0.0)
            kind = measure.get("kind")
            if kind in WALL_KINDS:
                self.wall_m2_planned += quantity
                self.wall_m2_done += done_quantity
            elif kind == MeasureKind.shop_signs.value:
                self.signs_planned += quantity
                self.signs_done += done_quantity
            elif kind == MeasureKind.lighting.value:
                self.lights_planned += quantity
                self.lights_done += done_quantity
        self.budget_cny += float(project.budget_cny or 0)
        self.spent_cny += float(project.spent_cny or 0)

    def flat(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": self.label, "projects": self.projects}
        out.update({f"status_{k}": v for k, v in self.by_status.items()})
        for name in COLUMNS[len(out) :]:
            out[name] = round(float(getattr(self, name)), 2)
        return out


COLUMNS = [
    "key",
    "label",
    "projects",
    *(f"status_{s.value}" for s in ProjectStatus),
    "wall_m2_planned",
    "wall_m2_done",
    "signs_planned",
    "signs_done",
    "lights_planned",
    "lights_done",
    "budget_cny",
    "spent_cny",
]


def progress(
    session: Session, caller: Caller, group_by: GroupBy, *, district: str | None = None, year: int | None = None
) -> list[ProgressRow]:
    """Rows per street (projects without a street under "no street"), district or the whole city;
    ``year`` keeps the projects of that year's showcase streets."""
    caller.require(FacadesScope.read)
    query = select(Project, Street).outerjoin(Street, Street.id == Project.street_id)
    if district is not None:
        query = query.where(Project.district_code == units.district(district).code)
    if year is not None:
        query = query.where(Street.year == year)
    rows: dict[str, ProgressRow] = {}
    names = {u.code: f"{u.name} {u.name_zh}" for u in units.UNITS}
    for project, street in session.execute(query.order_by(Project.code)):
        if group_by is GroupBy.street:
            key, label = (str(street.id), f"{street.code} {street.name}") if street else ("none", "no street")
        elif group_by is GroupBy.district:
            key, label = project.district_code, names.get(project.district_code, project.district_code)
        else:
            key, label = "city", "Ordos 鄂尔多斯市"
        rows.setdefault(key, ProgressRow(key, label)).add(project)
    return sorted(rows.values(), key=lambda r: r.label)


def to_csv(rows: list[ProgressRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow(row.flat())
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 Chinese correctly


def to_xlsx(rows: list[ProgressRow]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "progress"
    sheet.append(COLUMNS)
    for row in rows:
        flat = row.flat()
        sheet.append([flat[c] for c in COLUMNS])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()

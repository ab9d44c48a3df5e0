"""Facade projects: create, edit, status workflow, colour check, approval documents.

Design institutes (uploaders) manage their organisation's projects, officials every project; every
signed-in role reads. Approving a project (officials) needs a colour check that does not fail and,
when the building is historic or inside a protection zone, at least one approval document.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput, NotFound
from cim_platform.datasets.models import Dataset
from cim_platform.facades import geometry, heritage_check, rules, units
from cim_platform.facades.colours import read_colour
from cim_platform.facades.errors import DuplicateCode, InvalidTransition
from cim_platform.facades.models import PROJECT_STEPS, Project, ProjectStatus, Street
from cim_platform.facades.palette import ColourUse, FacadeColour, Outcome, Zone, check_colours
from cim_platform.facades.scopes import FacadesScope


class ApprovalDocumentsRequired(InvalidInput):
    """The building is historic or inside a protection zone: approval documents first."""

    code = "approval_documents_required"


class ColourRuleFailed(Conflict):
    code = "colour_rule_failed"


PLAIN_FIELDS = (
    "name",
    "orientation",
    "facade_area_m2",
    "measures",
    "materials",
    "signs",
    "lighting",
    "budget_cny",
    "spent_cny",
    "funding_source",
    "contractor",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "approval_documents",
    "note",
    "feature_id",
)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def snapshot(project: Project) -> dict[str, Any]:
    keys = (
        "code",
        *PLAIN_FIELDS,
        "status",
        "zone",
        "district_code",
        "colours",
        "colour_outcome",
        "approval_required",
        "heritage",
        "version",
    )
    out = {key: _json(getattr(project, key)) for key in keys}
    out["street_id"] = str(project.street_id) if project.street_id else None
    out["dataset_id"] = str(project.dataset_id) if project.dataset_id else None
    return out


def _input(item: dict[str, Any]) -> dict[str, Any]:
    return {key: item[key] for key in ("hex", "lab", "munsell") if item.get(key) is not None}


def colour_entries(items: list[dict[str, Any]]) -> list[FacadeColour]:
    out = []
    for item in items:
        lab = item.get("lab")
        reading = read_colour(hex=item.get("hex"), lab=tuple(lab) if lab else None, munsell=item.get("munsell"))
        out.append(
            FacadeColour(
                reading=reading, use=ColourUse(item["use"]), share=float(item["share"]), label=item.get("label")
            )
        )
    return out


def _stored_colour(colour: FacadeColour, given: dict[str, Any]) -> dict[str, Any]:
    r = colour.reading
    return {
        "input": given,
        "given_as": r.given_as,
        "given": r.given,
        "hex": r.hex,
        "lab": list(r.lab) if r.lab else None,
        "xyY": list(r.xyY) if r.xyY else None,
        "munsell": {
            "notation": r.munsell.notation,
            "hue": r.munsell.hue,
            "family": r.munsell.family,
            "value": r.munsell.value,
            "chroma": r.munsell.chroma,
            "in_renotation_domain": r.munsell.in_renotation_domain,
        },
        "high_chroma": r.high_chroma,
        "note": r.note,
        "use": colour.use.value,
        "share": colour.share,
        "label": colour.label,
    }


def recheck_colours(session: Session, project: Project, items: list[dict[str, Any]] | None = None) -> None:
    """Read the colours (``items``, else the stored ones as given) and check them by the zone's rules."""
    if items is None:
        items = [{**c["input"], "use": c["use"], "share": c["share"], "label": c.get("label")} for c in project.colours]
    colours = colour_entries(items)
    project.colours = [_stored_colour(c, _input(i)) for c, i in zip(colours, items, strict=True)]
    if colours:
        zone = Zone(project.zone)
        result = check_colours(colours, rules.rules_for(session, zone), zone)
        project.colour_check = result.as_dict()
        project.colour_outcome = result.outcome.value
    else:
        project.colour_check = None
        project.colour_outcome = None


def _place(session: Session, caller: Caller, project: Project, values: dict[str, Any], crs: str) -> None:
    """Street, district, building (dataset feature or drawn footprint) and the heritage check."""
    if values.get("street_id") is not None:
        street = session.get(Street, values["street_id"])
        if street is None:
            raise InvalidInput("no such showcase street", params={"field": "street_id"})
        project.street_id = street.id
        project.district_code = street.district_code
        if values.get("zone") is None and project.zone is None:
            project.zone = street.zone
    if values.get("district") is not None:
        project.district_code = units.district(values["district"]).code
    if project.district_code is None:
        raise InvalidInput("give the project's street or district", params={"field": "district"})
    if values.get("zone") is not None:
        project.zone = Zone(values["zone"]).value
    if project.zone is None:
        project.zone = Zone.old_town.value
    if "dataset_id" in values:
        dataset_id = values["dataset_id"]
        if dataset_id is not None:
            dataset = session.get(Dataset, dataset_id)
            if dataset is None or not caller.can_see(dataset.organization_id, public=dataset.visibility == "public"):
                raise InvalidInput("no such dataset", params={"field": "dataset_id"})
            if dataset.published_revision_id is None:
                raise InvalidInput("the building's dataset has no published revision", params={"field": "dataset_id"})
        project.dataset_id = dataset_id
    if values.get("footprint") is not None:
        project.footprint = geometry.to_storage("footprint", _multi(values["footprint"]), crs, lines=False)
    if project.footprint is None and project.dataset_id is None:
        raise InvalidInput(
            "the building is a feature of a published dataset or a drawn footprint", params={"field": "footprint"}
        )
    shape = project.footprint
    if shape is None and project.dataset_id is not None:
        shape = heritage_check.dataset_footprint(session, project.dataset_id)
    project.heritage = heritage_check.touched_records(session, shape) if shape is not None else []
    project.approval_required = bool(project.heritage)


def _multi(value: dict[str, Any]) -> dict[str, Any]:
    if value.get("type") == "Polygon":
        return {"type": "MultiPolygon", "coordinates": [value.get("coordinates")]}
    return value


def create(session: Session, caller: Caller, values: dict[str, Any], crs: str) -> Project:
    caller.require(FacadesScope.write)
    if caller.organization_id is None:
        raise InvalidInput("the caller belongs to no organisation")
    if session.scalar(select(Project.id).where(Project.code == values["code"])) is not None:
        raise DuplicateCode(f"a project with code {values['code']!r} exists", params={"code": values["code"]})
    project = Project(
        id=uuid.uuid4(),
        code=values["code"],
        organization_id=caller.organization_id,
        status=ProjectStatus.planned.value,
        created_by=caller.user_id,
        zone=None,
        district_code=None,
    )
    for key in PLAIN_FIELDS:
        if values.get(key) is not None:
            setattr(project, key, values[key])
    with session.no_autoflush:  # the project is complete only once placed
        _place(session, caller, project, values, crs)
        recheck_colours(session, project, values.get("colours") or [])
    session.add(project)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DuplicateCode(f"a project with code {project.code!r} exists", params={"code": project.code}) from None
    record_change(
        session,
        caller,
        action="facades.project.created",
        object_type="facade_project",
        object_id=str(project.id),
        before=None,
        after=snapshot(project),
    )
    return project


def get(session: Session, project_id: uuid.UUID) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound("no such facade project")
    return project


def _check_manages(caller: Caller, project: Project) -> None:
    caller.require(FacadesScope.write)
    if not caller.reads_everything():
        caller.check_manages(project.organization_id, what="project")


def update(session: Session, caller: Caller, project: Project, values: dict[str, Any], crs: str) -> Project:
    _check_manages(caller, project)
    if ProjectStatus(project.status) is ProjectStatus.accepted:
        raise Conflict("an accepted project is closed")
    before = snapshot(project)
    for key in PLAIN_FIELDS:
        if key in values and (values[key] is not None or key in ("feature_id",)):
            setattr(project, key, values[key])
    _place(session, caller, project, values, crs)
    if "colours" in values and values["colours"] is not None:
        recheck_colours(session, project, values["colours"])
    elif "zone" in values:
        recheck_colours(session, project)
    project.version += 1
    project.updated_at = utcnow()
    session.flush()
    record_change(
        session,
        caller,
        action="facades.project.updated",
        object_type="facade_project",
        object_id=str(project.id),
        before=before,
        after=snapshot(project),
    )
    return project


def change_status(session: Session, caller: Caller, project: Project, status: ProjectStatus) -> Project:
    if status in (ProjectStatus.approved, ProjectStatus.accepted):
        caller.require(FacadesScope.admin)
    else:
        _check_manages(caller, project)
    current = ProjectStatus(project.status)
    if status not in PROJECT_STEPS[current]:
        raise InvalidTransition(
            f"a {current.value} project cannot become {status.value}",
            params={"from": current.value, "to": status.value},
        )
    if status is ProjectStatus.approved:
        if project.colour_outcome == Outcome.fail.value:
            raise ColourRuleFailed("the project's colours fail the colour rules: change them before approval")
        if project.approval_required and not project.approval_documents:
            names = ", ".join(sorted({h["code"] for h in project.heritage}))
            raise ApprovalDocumentsRequired(
                f"the building touches historic records ({names}): add the approval documents first",
                params={"records": names},
            )
    before = snapshot(project)
    project.status = status.value
    project.version += 1
    project.updated_at = utcnow()
    session.flush()
    record_change(
        session,
        caller,
        action="facades.project.status",
        object_type="facade_project",
        object_id=str(project.id),
        before=before,
        after=snapshot(project),
    )
    return project


def listing(
    session: Session,
    *,
    street_id: uuid.UUID | None = None,
    district: str | None = None,
    status: ProjectStatus | None = None,
    colour_outcome: Outcome | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[Project], int]:
    query = select(Project)
    if street_id is not None:
        query = query.where(Project.street_id == street_id)
    if district is not None:
        query = query.where(Project.district_code == units.district(district).code)
    if status is not None:
        query = query.where(Project.status == status.value)
    if colour_outcome is not None:
        query = query.where(Project.colour_outcome == colour_outcome.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Project.code).limit(limit).offset(offset)).all()
    return list(rows), int(total)

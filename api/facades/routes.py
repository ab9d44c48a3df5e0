"""Facade colours, rules, units, yearly targets and showcase streets (issue 11).

Every signed-in role reads; design institutes and officials write streets (``facades:write``);
officials change rules and targets and accept streets (``facades:admin``). A street is read with its ETag
and changed only with it (``If-Match``): 412 when it names an older version, 428 when it is missing.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response

from api.deps import CallerDep, SessionDep
from api.errors import error_response
from api.facades.schemas import (
    CheckAnswer,
    CheckOut,
    CheckRequest,
    ColourIn,
    ColourOut,
    ErrorBody,
    FacadeColourIn,
    RulesFields,
    RulesList,
    RulesOut,
    StreetCreate,
    StreetList,
    StreetOut,
    StreetStatusChange,
    StreetUpdate,
    TargetIn,
    TargetReport,
    UnitList,
)
from api.facades.views import colour_view, facade_colour_view, rules_view, street_view, target_view, unit_view
from cim_platform.core.conditional import if_match_names
from cim_platform.facades import rules, streets, targets, units
from cim_platform.facades.colours import ColourReading, read_colour
from cim_platform.facades.models import Street, StreetStatus
from cim_platform.facades.palette import FacadeColour, Zone, check_colours
from cim_platform.facades.scopes import FacadesScope

router = APIRouter(prefix="/api/v1/facades", tags=["facades"])
IfMatch = Annotated[str | None, Header(alias="If-Match", description="the street's ETag as read (required)")]
CONDITIONAL: dict[int | str, dict[str, Any]] = {
    412: {"model": ErrorBody, "description": "If-Match names an older version of the street: nothing was written"},
    428: {"model": ErrorBody, "description": "If-Match is missing: read the street and send its ETag"},
}


def street_etag(street: Street) -> str:
    return f'"street-{street.id}.{street.version}"'


def refused(street: Street, if_match: str | None) -> Response | None:
    """428 without If-Match, 412 when it names another version of the street; None when the write may go."""
    tag = street_etag(street)
    headers = {"ETag": tag}
    if if_match is None or not if_match.strip():
        return error_response(
            428,
            "precondition_required",
            "send If-Match with the street's ETag (read the street first): nothing was written",
            {"etag": tag},
            headers=headers,
        )
    if if_match_names(if_match, tag):
        return None
    return error_response(
        412,
        "precondition_failed",
        f"the street changed since you read it (now version {street.version}); nothing was written",
        {"etag": tag, "version": street.version},
        headers=headers,
    )


def read_in(colour: ColourIn) -> ColourReading:
    return read_colour(hex=colour.hex, lab=colour.lab, munsell=colour.munsell)


def facade_colours(items: list[FacadeColourIn]) -> list[FacadeColour]:
    return [FacadeColour(reading=read_in(c), use=c.use, share=c.share, label=c.label) for c in items]


@router.post("/colours/read", response_model=ColourOut)
def read_one_colour(body: ColourIn, caller: CallerDep) -> ColourOut:
    """One colour in every notation with its Munsell reading (for a colour picker)."""
    caller.require(FacadesScope.read)
    return colour_view(read_in(body))


@router.post("/colours/check", response_model=CheckAnswer)
def check_some_colours(body: CheckRequest, caller: CallerDep, session: SessionDep) -> CheckAnswer:
    """Check colours with area shares against a zone's rules without storing anything (live form check)."""
    caller.require(FacadesScope.read)
    colours = facade_colours(body.colours)
    result = check_colours(colours, rules.rules_for(session, body.zone), body.zone)
    return CheckAnswer(
        colours=[facade_colour_view(c) for c in colours], check=CheckOut.model_validate(result.as_dict())
    )


@router.get("/rules", response_model=RulesList)
def list_rules(caller: CallerDep, session: SessionDep) -> RulesList:
    caller.require(FacadesScope.read)
    return RulesList(zones=[rules_view(zone, r, changed) for zone, (r, changed) in rules.all_rules(session).items()])


@router.patch("/rules/{zone}", response_model=RulesOut)
def change_rules(zone: Zone, body: RulesFields, caller: CallerDep, session: SessionDep) -> RulesOut:
    """Change some of a zone's colour rules (officials)."""
    changed = rules.set_rules(session, caller, zone, body.model_dump(exclude_none=True))
    session.commit()
    return rules_view(zone, changed, True)


@router.get("/units", response_model=UnitList)
def list_units(caller: CallerDep) -> UnitList:
    """The units targets attach to: districts, banners and Altan Xire town."""
    caller.require(FacadesScope.read)
    return UnitList(units=[unit_view(u) for u in units.UNITS])


@router.get("/targets", response_model=TargetReport)
def target_report(
    caller: CallerDep,
    session: SessionDep,
    year: Annotated[int, Query(ge=2000, le=2100)],
    as_of: Annotated[date | None, Query(description="report as on this day (default today)")] = None,
) -> TargetReport:
    """Per unit: accepted, under way, target, on_track or behind."""
    caller.require(FacadesScope.read)
    day = as_of or date.today()
    return TargetReport(year=year, as_of=day, units=[target_view(r) for r in targets.report(session, year, day)])


@router.put("/targets/{unit}/{year}", response_model=TargetReport)
def set_target(unit: str, year: int, body: TargetIn, caller: CallerDep, session: SessionDep) -> TargetReport:
    """Set a unit's target for a year (officials); answers the year's report."""
    targets.set_target(session, caller, unit, year, body.target, body.note)
    session.commit()
    day = date.today()
    return TargetReport(year=year, as_of=day, units=[target_view(r) for r in targets.report(session, year, day)])


@router.post("/streets", status_code=201, response_model=StreetOut)
def create_street(body: StreetCreate, response: Response, caller: CallerDep, session: SessionDep) -> StreetOut:
    street = streets.create(session, caller, body.model_dump(exclude={"crs"}), body.crs)
    session.commit()
    response.headers["Location"] = f"/api/v1/facades/streets/{street.id}"
    response.headers["ETag"] = street_etag(street)
    return street_view(street)


@router.get("/streets", response_model=StreetList)
def list_streets(
    caller: CallerDep,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    unit: Annotated[str | None, Query(max_length=40)] = None,
    district: Annotated[str | None, Query(max_length=40)] = None,
    status: StreetStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> StreetList:
    caller.require(FacadesScope.read)
    rows, total = streets.listing(
        session, year=year, unit=unit, district=district, status=status, limit=limit, offset=offset
    )
    return StreetList(total=total, items=[street_view(s) for s in rows])


@router.get("/streets/{street_id}", response_model=StreetOut)
def get_street(street_id: uuid.UUID, response: Response, caller: CallerDep, session: SessionDep) -> StreetOut:
    """The street with its ETag (send it as If-Match to change the street)."""
    caller.require(FacadesScope.read)
    street = streets.get(session, street_id)
    response.headers["ETag"] = street_etag(street)
    return street_view(street)


@router.patch("/streets/{street_id}", response_model=StreetOut, responses=CONDITIONAL)
def update_street(
    street_id: uuid.UUID,
    body: StreetUpdate,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> StreetOut | Response:
    """Change the street (``If-Match`` required)."""
    caller.require(FacadesScope.write)
    street = streets.get(session, street_id, lock=True)
    stop = refused(street, if_match)
    if stop is not None:
        return stop
    street = streets.update(session, caller, street, body.model_dump(exclude_unset=True, exclude={"crs"}), body.crs)
    session.commit()
    response.headers["ETag"] = street_etag(street)
    return street_view(street)


@router.post("/streets/{street_id}/status", response_model=StreetOut, responses=CONDITIONAL)
def change_street_status(
    street_id: uuid.UUID,
    body: StreetStatusChange,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> StreetOut | Response:
    """candidate → under_construction → accepted (officials; acceptance document and date); ``If-Match``
    required."""
    caller.require(FacadesScope.write)
    street = streets.get(session, street_id, lock=True)
    stop = refused(street, if_match)
    if stop is not None:
        return stop
    street = streets.change_status(
        session,
        caller,
        street,
        body.status,
        acceptance_document=body.acceptance_document,
        accepted_on=body.accepted_on,
    )
    session.commit()
    response.headers["ETag"] = street_etag(street)
    return street_view(street)

"""Historic-building records: create, list, read, edit (If-Match), status workflow, retire, history.

Anonymous callers read listed, active records' public fields; every signed-in role reads everything.
"""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from api.deps import CallerDep, SessionDep
from api.heritage.http import CONDITIONAL, HeritageRoute
from api.heritage.schemas import (
    BuildingCreate,
    BuildingList,
    BuildingOut,
    BuildingPublic,
    BuildingUpdate,
    History,
    HistoryEntry,
    ProposalOut,
    RetireRequest,
    StatusChange,
)
from api.heritage.views import building_view, path_for, proposal_view
from cim_platform.core.access import Caller
from cim_platform.core.errors import InvalidInput
from cim_platform.heritage import archive, proposals, service
from cim_platform.heritage.models import Building, Level, Status
from cim_platform.heritage.scopes import HeritageScope

router = APIRouter(prefix="/api/v1/heritage", tags=["heritage"], route_class=HeritageRoute)
IfMatch = Annotated[str | None, Header(alias="If-Match", description="The record's ETag as read")]


def _answer(request: Request, response: Response, session: Any, caller: Caller, building: Building) -> BuildingOut:
    response.headers["ETag"] = service.etag(building)
    pending = proposals.pending_for(session, building.id)
    items = archive.list_items(session, caller, building.id, every_version=False)
    view = building_view(request, building, full=True, pending=pending, items=items)
    assert isinstance(view, BuildingOut)
    return view


def _fields(body: BuildingCreate | BuildingUpdate) -> dict[str, Any]:
    values = body.model_dump(exclude_unset=True, exclude={"crs", "note"})
    if "district" in values:
        values["district_code"] = values.pop("district")
    return values


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidInput("bbox must be four numbers: west,south,east,north") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise InvalidInput("bbox must be four finite numbers: west,south,east,north")
    west, south, east, north = values
    if west > east or south > north:
        raise InvalidInput("bbox must be west,south,east,north with west <= east and south <= north")
    return west, south, east, north


@router.post("/buildings", status_code=201, response_model=BuildingOut)
def create_building(
    body: BuildingCreate, request: Request, response: Response, caller: CallerDep, session: SessionDep
) -> BuildingOut:
    """A new record (draft). Geometries in ``crs`` (e.g. EPSG:4546), stored in EPSG:4490."""
    caller.require(HeritageScope.write)
    building = service.create_building(session, caller, _fields(body), body.crs)
    session.commit()
    response.headers["Location"] = path_for(request, "get_building", building_id=building.id)
    return _answer(request, response, session, caller, building)


@router.get("/buildings", response_model=BuildingList)
def list_buildings(
    request: Request,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    district: Annotated[str | None, Query(max_length=80)] = None,
    status: Status | None = None,
    level: Level | None = None,
    text: Annotated[str | None, Query(max_length=200, description="In code, name, aliases (address)")] = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north in degrees")] = None,
    group: uuid.UUID | None = None,
    dataset: Annotated[uuid.UUID | None, Query(description="Records whose archive item became this dataset")] = None,
    include_retired: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> BuildingList:
    if text is not None and "\x00" in text:
        raise InvalidInput("text contains a NUL character")
    filters = service.BuildingFilter(
        district=district,
        status=status,
        level=level.value if level else None,
        text=text,
        bbox=parse_bbox(bbox) if bbox else None,
        group_id=group,
        dataset_id=dataset,
        include_retired=include_retired,
        limit=limit,
        offset=offset,
    )
    page = service.list_buildings(session, caller, filters)
    response.headers["X-Total-Count"] = str(page.total)
    full = service.reads_full(caller)
    views = [building_view(request, b, full=full) for b in page.buildings]
    return BuildingList(buildings=views, count=len(views), total=page.total)


@router.get("/buildings/{building_id}", response_model=BuildingOut | BuildingPublic)
def get_building(
    building_id: uuid.UUID, request: Request, response: Response, caller: CallerDep, session: SessionDep
) -> BuildingOut | BuildingPublic:
    """The record with its ETag and pending proposals (anonymous: a listed record's public fields)."""
    building = service.get_building(session, caller, building_id)
    if not service.reads_full(caller):
        return building_view(request, building, full=False)
    return _answer(request, response, session, caller, building)


@router.patch(
    "/buildings/{building_id}",
    response_model=BuildingOut,
    responses={**CONDITIONAL, 202: {"model": ProposalOut, "description": "A listed record: the edit awaits review"}},
)
def update_building(
    building_id: uuid.UUID,
    body: BuildingUpdate,
    request: Request,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> Any:
    """Edit the record (``If-Match`` required). A surveyor's edit of a listed (or delisted) record becomes
    a proposal (202) for an official to accept or reject; reviewers edit directly."""
    service.require_any(caller, HeritageScope.write, HeritageScope.review)
    building = service.get_building(session, caller, building_id, lock=True)
    service.check_if_match(building, if_match)
    changes = service.normalise(session, _fields(body), body.crs)
    if building.status in (Status.listed.value, Status.delisted.value) and not service.reviews(caller):
        proposal = proposals.propose(session, caller, building, changes, body.note)
        session.commit()
        location = path_for(request, "get_proposal", proposal_id=proposal.id)
        return JSONResponse(jsonable_encoder(proposal_view(proposal)), status_code=202, headers={"Location": location})
    service.edit(session, caller, building, changes, action="heritage.building.updated")
    session.commit()
    return _answer(request, response, session, caller, building)


@router.post("/buildings/{building_id}/status", response_model=BuildingOut, responses=CONDITIONAL)
def change_status(
    building_id: uuid.UUID,
    body: StatusChange,
    request: Request,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> BuildingOut:
    """draft → submitted → under_review → listed; back to draft; listed → delisted with an approval reference."""
    service.require_any(caller, HeritageScope.write, HeritageScope.review)
    building = service.get_building(session, caller, building_id, lock=True)
    service.check_if_match(building, if_match)
    service.change_status(
        session, caller, building, body.to, comment=body.comment, approval_reference=body.approval_reference
    )
    session.commit()
    return _answer(request, response, session, caller, building)


@router.post("/buildings/{building_id}/retire", response_model=BuildingOut, responses=CONDITIONAL)
def retire_building(
    building_id: uuid.UUID,
    body: RetireRequest,
    request: Request,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> BuildingOut:
    """No hard delete: the record is retired with a reason and stays readable with its history."""
    service.require_any(caller, HeritageScope.write, HeritageScope.review)
    building = service.get_building(session, caller, building_id, lock=True)
    service.check_if_match(building, if_match)
    service.retire(session, caller, building, body.reason)
    session.commit()
    return _answer(request, response, session, caller, building)


@router.get("/buildings/{building_id}/history", response_model=History)
def building_history(building_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> History:
    """Every change of the record from the audit trail, oldest first: who, when, before and after."""
    entries = service.history(session, caller, building_id)
    return History(
        building_id=building_id,
        entries=[
            HistoryEntry(
                id=e.id,
                at=e.at,
                actor=e.actor_username,
                action=e.action,
                before=e.before,
                after=e.after,
                request_id=e.request_id,
            )
            for e in entries
        ],
    )

"""Proposals (the review queue), groups of buildings and protection conflicts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from api.deps import CallerDep, SessionDep
from api.heritage.http import CONDITIONAL, HeritageRoute
from api.heritage.schemas import (
    ApprovalCreate,
    ApprovalList,
    ApprovalOut,
    ConflictList,
    ConflictOut,
    Decision,
    GroupCreate,
    GroupList,
    GroupMember,
    GroupOut,
    ProposalList,
    ProposalOut,
)
from api.heritage.views import path_for, proposal_view
from cim_platform.heritage import approvals, conflicts, groups, proposals, service
from cim_platform.heritage.models import BuildingGroup, ProposalState, PublishApproval, Status
from cim_platform.heritage.scopes import HeritageScope

router = APIRouter(prefix="/api/v1/heritage", tags=["heritage"], route_class=HeritageRoute)


@router.get("/proposals", response_model=ProposalList)
def list_proposals(
    caller: CallerDep,
    session: SessionDep,
    state: ProposalState | None = None,
    building: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ProposalList:
    """The review queue is ``?state=pending`` (oldest first)."""
    page = proposals.list_proposals(session, caller, state=state, building_id=building, limit=limit, offset=offset)
    views = [proposal_view(p) for p in page.proposals]
    return ProposalList(proposals=views, count=len(views), total=page.total)


@router.get("/proposals/{proposal_id}", response_model=ProposalOut)
def get_proposal(proposal_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> ProposalOut:
    return proposal_view(proposals.get_proposal(session, caller, proposal_id))


def _decide(
    proposal_id: uuid.UUID,
    body: Decision,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: str | None,
    *,
    accept: bool,
) -> ProposalOut:
    proposal, building = proposals.decide(
        session, caller, proposal_id, accept=accept, comment=body.comment, if_match=if_match
    )
    session.commit()
    response.headers["ETag"] = service.etag(building)  # the record's, after the decision
    return proposal_view(proposal)


@router.post("/proposals/{proposal_id}/accept", response_model=ProposalOut, responses=CONDITIONAL)
def accept_proposal(
    proposal_id: uuid.UUID,
    body: Decision,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: Annotated[str | None, Header(alias="If-Match", description="Optional: the record's ETag")] = None,
) -> ProposalOut:
    """Officials and admins: the record takes the proposed values (its new ETag in the answer's header)."""
    return _decide(proposal_id, body, response, caller, session, if_match, accept=True)


@router.post("/proposals/{proposal_id}/reject", response_model=ProposalOut, responses=CONDITIONAL)
def reject_proposal(
    proposal_id: uuid.UUID, body: Decision, response: Response, caller: CallerDep, session: SessionDep
) -> ProposalOut:
    """Officials and admins, with a comment for the surveyor; the record is unchanged."""
    return _decide(proposal_id, body, response, caller, session, None, accept=False)


def _group_view(group: BuildingGroup, members: list[GroupMember] | None = None) -> GroupOut:
    return GroupOut(
        id=group.id,
        name=group.name,
        code=group.code,
        description=group.description,
        created_at=group.created_at,
        members=members,
    )


@router.post("/groups", status_code=201, response_model=GroupOut)
def create_group(
    body: GroupCreate, request: Request, response: Response, caller: CallerDep, session: SessionDep
) -> GroupOut:
    """A group of buildings; link records to it with their ``group_id``."""
    group = groups.create_group(session, caller, name=body.name, code=body.code, description=body.description)
    session.commit()
    response.headers["Location"] = path_for(request, "get_group", group_id=group.id)
    return _group_view(group, [])


@router.get("/groups", response_model=GroupList)
def list_groups(session: SessionDep) -> GroupList:
    return GroupList(groups=[_group_view(g) for g in groups.list_groups(session)])


@router.get("/groups/{group_id}", response_model=GroupOut)
def get_group(group_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> GroupOut:
    """The group with its active member records (anonymous callers: the listed ones)."""
    group = groups.get_group(session, group_id)
    rows = groups.members(session, group_id, public_only=not service.reads_full(caller))
    return _group_view(group, [GroupMember(id=b.id, code=b.code, name=b.name, status=Status(b.status)) for b in rows])


@router.get("/conflicts", response_model=ConflictList)
def list_conflicts(
    caller: CallerDep,
    session: SessionDep,
    building: uuid.UUID | None = None,
    dataset: uuid.UUID | None = None,
    revision: uuid.UUID | None = None,
    district: Annotated[str | None, Query(max_length=80)] = None,
    zone: Annotated[str | None, Query(pattern="^(protection_range|control_zone)$")] = None,
    published: Annotated[bool, Query(description="Only published revisions")] = False,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> ConflictList:
    """Dataset revisions (ready, visible to the caller) whose footprint intersects a protection range or a
    construction-control zone of an active record, with the overlap in m² (PostGIS)."""
    caller.require(HeritageScope.read)
    filters = conflicts.ConflictFilter(building, dataset, revision, district, zone, published, limit)
    return _conflict_list(conflicts.find_conflicts(session, caller, filters))


@router.get("/datasets/{dataset_id}/revisions/{revision_id}/conflicts", response_model=ConflictList)
def revision_conflicts(
    dataset_id: uuid.UUID, revision_id: uuid.UUID, caller: CallerDep, session: SessionDep
) -> ConflictList:
    """The protection conflicts of one dataset revision (its footprint against every active record's
    protection range and construction-control zone, PostGIS): what a conversion job links as its result."""
    caller.require(HeritageScope.read)
    filters = conflicts.ConflictFilter(dataset_id=dataset_id, revision_id=revision_id, limit=5000)
    return _conflict_list(conflicts.find_conflicts(session, caller, filters))


def _conflict_list(rows: list[conflicts.ConflictRow]) -> ConflictList:
    views = [
        ConflictOut(
            building_id=r.building_id,
            building_code=r.building_code,
            building_name=r.building_name,
            district=r.district_code,
            zone=r.zone,
            dataset_id=r.dataset_id,
            dataset_name=r.dataset_name,
            revision_id=r.revision_id,
            revision_number=r.revision_number,
            published=r.published,
            area_m2=r.area_m2,
            area_gk_m2=r.area_gk_m2,
            gk_epsg=r.gk_epsg,
        )
        for r in rows
    ]
    return ConflictList(conflicts=views, count=len(views))


def _approval_view(approval: PublishApproval) -> ApprovalOut:
    return ApprovalOut(
        id=approval.id,
        revision_id=approval.revision_id,
        reference=approval.reference,
        comment=approval.comment,
        approved_by=approval.approved_by_name,
        created_at=approval.created_at,
    )


@router.post("/approvals", status_code=201, response_model=ApprovalOut)
def approve_publication(body: ApprovalCreate, caller: CallerDep, session: SessionDep) -> ApprovalOut:
    """Officials and admins: the approval document that lets a dataset revision overlapping protection
    zones be published (the datasets domain's publish route refuses it before, with the conflicts)."""
    approval = approvals.approve(session, caller, body.revision_id, body.reference, body.comment)
    session.commit()
    return _approval_view(approval)


@router.get("/approvals", response_model=ApprovalList)
def list_approvals(revision: uuid.UUID, caller: CallerDep, session: SessionDep) -> ApprovalList:
    caller.require(HeritageScope.read)
    return ApprovalList(approvals=[_approval_view(a) for a in approvals.approvals_for(session, revision)])

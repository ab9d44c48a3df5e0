"""Reviewed edits: a surveyor's edit of a listed record waits as a proposal until an official (or an
admin) accepts it (the record changes, in the same transaction) or rejects it, with a comment.

Proposals are never deleted; their submission and decision are rows of the record's history.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput, NotFound
from cim_platform.heritage import service
from cim_platform.heritage.models import Building, Proposal, ProposalState
from cim_platform.heritage.scopes import HeritageScope


def propose(session: Session, caller: Caller, building: Building, changes: dict[str, Any], note: str) -> Proposal:
    """A pending proposal of normalised changes (nothing of the record changes)."""
    caller.require(HeritageScope.write)
    if building.retired_at is not None:
        raise Conflict(f"record {building.code} is retired")
    proposal = Proposal(
        id=uuid.uuid4(),
        building_id=building.id,
        base_version=building.version,
        changes=changes,
        note=note,
        state=ProposalState.pending.value,
        proposed_by=caller.user_id,
        proposed_by_name=caller.username,
    )
    session.add(proposal)
    session.flush()
    record_change(
        session,
        caller,
        action="heritage.proposal.submitted",
        object_type=service.OBJECT_TYPE,
        object_id=str(building.id),
        before=None,
        after={"proposal_id": str(proposal.id), "base_version": building.version, "changes": changes, "note": note},
    )
    return proposal


@dataclass
class ProposalPage:
    proposals: list[Proposal]
    total: int


def list_proposals(
    session: Session,
    caller: Caller,
    *,
    state: ProposalState | None,
    building_id: uuid.UUID | None,
    limit: int = 100,
    offset: int = 0,
) -> ProposalPage:
    """The review queue (``state=pending``, oldest first), or any proposals (signed-in readers)."""
    caller.require(HeritageScope.read)
    query = select(Proposal)
    if state is not None:
        query = query.where(Proposal.state == state.value)
    if building_id is not None:
        query = query.where(Proposal.building_id == building_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Proposal.created_at, Proposal.id).limit(limit).offset(offset))
    return ProposalPage(list(rows), total)


def pending_for(session: Session, building_id: uuid.UUID) -> list[Proposal]:
    query = select(Proposal).where(Proposal.building_id == building_id, Proposal.state == ProposalState.pending.value)
    return list(session.scalars(query.order_by(Proposal.created_at, Proposal.id)))


def get_proposal(session: Session, caller: Caller, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal:
    caller.require(HeritageScope.read)
    query = select(Proposal).where(Proposal.id == proposal_id)
    proposal = session.scalar(query.with_for_update() if lock else query)
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}", params={"id": str(proposal_id)})
    return proposal


def decide(
    session: Session, caller: Caller, proposal_id: uuid.UUID, *, accept: bool, comment: str, if_match: str | None
) -> tuple[Proposal, Building]:
    """Accept (apply the changes to the record as it is now) or reject a pending proposal. ``if_match``
    (optional) is the record's ETag as the reviewer saw it: a record changed since gets 412."""
    caller.require(HeritageScope.review)
    proposal = get_proposal(session, caller, proposal_id, lock=True)
    if proposal.state != ProposalState.pending.value:
        raise Conflict(f"the proposal is already {proposal.state}", params={"state": proposal.state})
    if not accept and not comment.strip():
        raise InvalidInput("a rejection needs a comment for the surveyor")
    building = service.get_building(session, caller, proposal.building_id, lock=True)
    if if_match is not None:
        service.check_if_match(building, if_match)
    proposal.state = (ProposalState.accepted if accept else ProposalState.rejected).value
    proposal.reviewed_by = caller.user_id
    proposal.reviewed_by_name = caller.username
    proposal.reviewed_at = utcnow()
    proposal.review_comment = comment
    decision = {"proposal_id": str(proposal.id), "comment": comment, "proposed_by": proposal.proposed_by_name}
    if accept:
        service.edit(
            session, caller, building, dict(proposal.changes), action="heritage.proposal.accepted", extra=decision
        )
    else:
        session.flush()
        record_change(
            session,
            caller,
            action="heritage.proposal.rejected",
            object_type=service.OBJECT_TYPE,
            object_id=str(building.id),
            before=None,
            after=decision,
        )
    return proposal, building

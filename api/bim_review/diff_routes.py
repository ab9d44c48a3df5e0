"""Differences between two IFC revisions of a dataset over HTTP."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.bim_review.schemas import DiffList, DiffPublic, DiffRequest
from api.deps import CallerDep, SessionDep
from cim_platform.bim_review import diffs
from cim_platform.bim_review.models import RevisionDiff

router = APIRouter(prefix="/api/v1/bim", tags=["bim-review"])


def diff_view(diff: RevisionDiff) -> DiffPublic:
    result = diff.result or {}
    return DiffPublic.model_validate(
        {
            "id": diff.id,
            "dataset_id": diff.dataset_id,
            "old_revision_id": diff.old_revision_id,
            "new_revision_id": diff.new_revision_id,
            "state": diff.state,
            "message": diff.message,
            "job_url": f"/api/v1/jobs/{diff.job_id}" if diff.job_id else None,
            "summary": diff.summary,
            "added": result.get("added", []),
            "deleted": result.get("deleted", []),
            "changed": result.get("changed", []),
            "created_at": diff.created_at,
            "finished_at": diff.finished_at,
        }
    )


@router.post("/datasets/{dataset_id}/diffs", status_code=202, response_model=DiffPublic)
def request_diff(
    dataset_id: uuid.UUID, body: DiffRequest, response: Response, caller: CallerDep, session: SessionDep
) -> DiffPublic:
    """Compare two IFC revisions (ifcdiff, as a job): added, deleted and changed elements."""
    diff = diffs.request_diff(session, caller, dataset_id, body.old_revision, body.new_revision)
    session.commit()
    response.headers["Location"] = f"/api/v1/bim/diffs/{diff.id}"
    return diff_view(diff)


@router.get("/datasets/{dataset_id}/diffs", response_model=DiffList)
def list_diffs(dataset_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> DiffList:
    return DiffList(items=[diff_view(d) for d in diffs.diffs_of(session, caller, dataset_id)])


@router.get("/diffs/{diff_id}", response_model=DiffPublic)
def get_revision_diff(diff_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> DiffPublic:
    return diff_view(diffs.get_diff(session, caller, diff_id))

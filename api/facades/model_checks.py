"""Colour checks of uploaded IFC models over HTTP: submit (a job), read per dataset or revision."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep
from api.facades.schemas import ModelCheckList, ModelCheckOut, ModelCheckRequest, ModelCheckSubmitted
from cim_platform.core.errors import NotFound
from cim_platform.core.jobs.service import enqueue
from cim_platform.datasets.service import get_dataset
from cim_platform.facades import model_checks
from cim_platform.facades.models import ModelCheck
from cim_platform.facades.scopes import FacadesScope

router = APIRouter(prefix="/api/v1/facades", tags=["facades"])


def check_view(check: ModelCheck) -> ModelCheckOut:
    return ModelCheckOut.model_validate(
        {
            "dataset_id": check.dataset_id,
            "revision_id": check.revision_id,
            "job_id": check.job_id,
            "zone": check.zone,
            "outcome": check.outcome,
            "checked_at": check.checked_at,
            **check.result,
        }
    )


@router.post("/model-checks", status_code=202, response_model=ModelCheckSubmitted)
def submit_model_check(
    body: ModelCheckRequest,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    settings: SettingsDep,
    engine: EngineDep,
) -> ModelCheckSubmitted:
    """Check an IFC revision's exterior colours (walls, curtain walls, cladding, roofs) by a zone's rules."""
    job_id, revision = model_checks.submit_check(session, caller, body.dataset, body.revision, body.zone)
    session.commit()
    enqueue(settings, engine, job_id)
    response.headers["Location"] = f"/api/v1/jobs/{job_id}"
    return ModelCheckSubmitted(
        job_id=job_id,
        job_url=f"/api/v1/jobs/{job_id}",
        dataset_id=revision.dataset_id,
        revision_id=revision.id,
        check_url=f"/api/v1/facades/model-checks/{revision.id}",
    )


@router.get("/model-checks", response_model=ModelCheckList)
def list_model_checks(dataset: uuid.UUID, caller: CallerDep, session: SessionDep) -> ModelCheckList:
    """The colour checks of a dataset's revisions, newest first."""
    return ModelCheckList(items=[check_view(c) for c in model_checks.checks_for(session, caller, dataset)])


@router.get("/model-checks/{revision_id}", response_model=ModelCheckOut)
def get_model_check(revision_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> ModelCheckOut:
    caller.require(FacadesScope.read)
    check = session.get(ModelCheck, revision_id)
    if check is None:
        raise NotFound("no colour check of this revision")
    get_dataset(session, caller, check.dataset_id)
    return check_view(check)

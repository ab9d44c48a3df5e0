"""Colour checks of uploaded IFC models: submitted as a job, the result stored per dataset revision.

Every IFC revision published (or rolled back to) that has no check yet gets one automatically: the
after-publish hook (``cim_platform.core.hooks``) records the job in the publication's transaction, and a
worker's reconciler hands it to the queue after its grace period (``core.jobs.reconcile.GRACE_S``), as
coverage snapshots are. The zone is that of the newest facade project on the dataset (else the old town).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import InvalidInput, NotFound
from cim_platform.core.hooks import Published, after_publish
from cim_platform.core.jobs.models import Job, JobState
from cim_platform.core.jobs.service import create_job
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import Dataset, DatasetKind, DatasetRevision
from cim_platform.datasets.service import get_dataset
from cim_platform.datasets.sources import source_path
from cim_platform.facades import rules
from cim_platform.facades.model_colours import read_model
from cim_platform.facades.models import ModelCheck, Project
from cim_platform.facades.palette import Outcome, Zone, check_colours
from cim_platform.facades.scopes import FacadesScope

TASK = "facades.check_model_colours"


def _revision(session: Session, dataset: Dataset, revision_id: uuid.UUID | None) -> DatasetRevision:
    if revision_id is None:
        revision_id = dataset.published_revision_id
        if revision_id is None:
            revision_id = session.scalar(
                select(DatasetRevision.id)
                .where(DatasetRevision.dataset_id == dataset.id)
                .order_by(DatasetRevision.number.desc())
                .limit(1)
            )
    revision = session.get(DatasetRevision, revision_id) if revision_id else None
    if revision is None or revision.dataset_id != dataset.id:
        raise NotFound("no such revision of this dataset")
    return revision


def submit_check(
    session: Session, caller: Caller, dataset_id: uuid.UUID, revision_id: uuid.UUID | None, zone: Zone
) -> tuple[uuid.UUID, DatasetRevision]:
    """A job checking the revision's IFC source (committed by the caller, then queued)."""
    caller.require(FacadesScope.write)
    dataset = get_dataset(session, caller, dataset_id)
    if dataset.kind != DatasetKind.ifc.value:
        raise InvalidInput("colours are read from IFC models only", params={"kind": dataset.kind})
    revision = _revision(session, dataset, revision_id)
    params = {"dataset_id": str(dataset.id), "revision_id": str(revision.id), "zone": zone.value}
    job = create_job(session, TASK, params, organization_id=caller.organization_id, user_id=caller.user_id)
    return job.id, revision


def zone_for(session: Session, dataset_id: uuid.UUID) -> Zone:
    """The colour zone of the newest facade project on the dataset, else the old town."""
    zone = session.scalar(
        select(Project.zone).where(Project.dataset_id == dataset_id).order_by(Project.created_at.desc()).limit(1)
    )
    return Zone(zone) if zone else Zone.old_town


@after_publish("facades")
def check_after_publish(session: Session, event: Published) -> None:
    """Record a colour check of a newly published IFC revision, unless it has one or one is waiting."""
    dataset = session.get(Dataset, event.dataset_id)
    if dataset is None or dataset.kind != DatasetKind.ifc.value:
        return
    if session.get(ModelCheck, event.revision_id) is not None:
        return
    waiting = session.scalar(
        select(Job.id).where(
            Job.task == TASK,
            Job.state.in_([JobState.queued.value, JobState.running.value]),
            Job.params["revision_id"].as_string() == str(event.revision_id),
        )
    )
    if waiting is not None:
        return
    params = {
        "dataset_id": str(dataset.id),
        "revision_id": str(event.revision_id),
        "zone": zone_for(session, dataset.id).value,
        "auto": True,
    }
    create_job(session, TASK, params, organization_id=dataset.organization_id, user_id=event.caller.user_id)


def run_check(session: Session, settings: Settings, params: dict[str, Any], job_id: uuid.UUID | None) -> ModelCheck:
    revision = session.get(DatasetRevision, uuid.UUID(params["revision_id"]))
    if revision is None:
        raise NotFound("the revision no longer exists")
    zone = Zone(params["zone"])
    model = read_model(source_path(settings, revision.source_path))
    colours = model.facade_colours()
    result = check_colours(colours, rules.rules_for(session, zone), zone)
    groups = {hex_: ids for hex_, _, ids in model.groups()}
    failing: set[str] = set()
    for finding in result.findings:
        if finding.outcome is Outcome.fail and finding.colour:
            failing.update(groups.get(finding.colour, []))
    stored: dict[str, Any] = {
        "elements": [
            {
                "global_id": e.global_id,
                "ifc_class": e.ifc_class,
                "name": e.name,
                "hex": e.hex,
                "area_m2": e.area_m2,
                "area_source": e.area_source,
                "fails": e.global_id in failing,
            }
            for e in model.elements
        ],
        "colours": [
            {
                "hex": c.reading.hex,
                "munsell": c.reading.munsell.notation,
                "chroma": c.reading.munsell.chroma,
                "value": c.reading.munsell.value,
                "high_chroma": c.reading.high_chroma,
                "use": c.use.value,
                "share": c.share,
                "elements": groups.get(c.reading.given, []),
            }
            for c in colours
        ],
        "check": result.as_dict(),
        "failing_elements": sorted(failing),
        "skipped_elements": model.skipped,
    }
    fields = {
        "job_id": job_id,
        "zone": zone.value,
        "outcome": result.outcome.value,
        "result": stored,
        "checked_at": utcnow(),
    }
    check = session.get(ModelCheck, revision.id, with_for_update=True)
    if check is None:
        try:  # two checks of one revision (e.g. the automatic one and one asked for) may end together
            with session.begin_nested():
                check = ModelCheck(revision_id=revision.id, dataset_id=revision.dataset_id, **fields)
                session.add(check)
                session.flush()
            return check
        except IntegrityError:
            check = session.get(ModelCheck, revision.id, with_for_update=True, populate_existing=True)
            assert check is not None
    for key, value in fields.items():
        setattr(check, key, value)
    session.flush()
    return check


def checks_for(session: Session, caller: Caller, dataset_id: uuid.UUID) -> list[ModelCheck]:
    caller.require(FacadesScope.read)
    get_dataset(session, caller, dataset_id)
    return list(
        session.scalars(
            select(ModelCheck).where(ModelCheck.dataset_id == dataset_id).order_by(ModelCheck.checked_at.desc())
        )
    )


def run_in_engine(engine: Engine, settings: Settings, params: dict[str, Any], job_id: uuid.UUID) -> dict[str, Any]:
    from cim_platform.core.db.engine import session_scope

    with session_scope(engine) as session:
        check = run_check(session, settings, params, job_id)
        return {"outcome": check.outcome, "failing_elements": len(check.result["failing_elements"])}

"""IDS checks of IFC revisions, as jobs next to their conversion.

The domain's publish guard (``cim_platform.core.guards``) is asked before every publication, including
the automatic one right after a conversion: it records a check job per applicable IDS version (in the
same transaction; handed to the queue once it commits) and holds the publication back while an IDS
that requires a pass has not passed. A failing check never fails a conversion: the revision stays
ready and is published as soon as its required checks pass (or by someone later, once they do).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from cim_platform.bim_review.errors import RequirementsNotFound
from cim_platform.bim_review.ids_check import check_model, load_ids_text, open_model
from cim_platform.bim_review.models import CheckState, IdsCheck, IdsDocument, IdsVersion
from cim_platform.bim_review.requirements import applicable_versions
from cim_platform.bim_review.scopes import BimScope
from cim_platform.core.access import Caller
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import CimError, InvalidInput
from cim_platform.core.guards import PublishAttempt, publish_guard
from cim_platform.core.jobs.service import create_job, enqueue
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import Dataset, DatasetKind, DatasetRevision, Publication, RevisionState
from cim_platform.datasets.publishing import publish
from cim_platform.datasets.sources import source_path

CHECK_TASK = "bim_review.check_ids"


def enqueue_after_commit(session: Session, job_ids: list[uuid.UUID]) -> None:
    """Hand jobs recorded in this transaction to the queue once it commits (the reconciler would
    otherwise do it after its grace period)."""
    if not job_ids:
        return
    bind = session.get_bind()
    engine: Engine = bind if isinstance(bind, Engine) else bind.engine

    def hand_over(_: Session) -> None:
        settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
        for job_id in job_ids:
            enqueue(settings, engine, job_id)

    event.listen(session, "after_commit", hand_over, once=True)


def queue_checks(session: Session, dataset: Dataset, revision: DatasetRevision) -> dict[uuid.UUID, IdsCheck]:
    """The checks of the revision by IDS version, recording a job for each applicable version not
    checked yet (committed by the caller)."""
    existing = {
        c.ids_version_id: c for c in session.scalars(select(IdsCheck).where(IdsCheck.revision_id == revision.id))
    }
    new_jobs = []
    for _, version in applicable_versions(session, dataset):
        if version.id in existing:
            continue
        check = IdsCheck(
            id=uuid.uuid4(), dataset_id=dataset.id, revision_id=revision.id, ids_version_id=version.id, message=""
        )
        job = create_job(session, CHECK_TASK, {"check_id": str(check.id)}, organization_id=dataset.organization_id)
        check.job_id = job.id
        check.state = CheckState.queued.value
        session.add(check)
        existing[version.id] = check
        new_jobs.append(job.id)
    session.flush()
    enqueue_after_commit(session, new_jobs)
    return existing


@publish_guard("bim_review")
def required_ids_passed(session: Session, attempt: PublishAttempt) -> list[str]:
    dataset = session.get(Dataset, attempt.dataset_id)
    revision = session.get(DatasetRevision, attempt.revision_id)
    if dataset is None or revision is None or dataset.kind != DatasetKind.ifc.value:
        return []
    checks = queue_checks(session, dataset, revision)
    reasons = []
    for document, version in applicable_versions(session, dataset):
        check = checks[version.id]
        if document.require_pass and check.state != CheckState.passed.value:
            state = "has not finished yet" if check.state == CheckState.queued.value else f"ended {check.state}"
            reasons.append(
                f"IDS “{document.name}” (version {version.number}) requires a pass: "
                f"the check of revision {revision.number} {state}"
            )
    return reasons


def _publish_if_waiting(session: Session, revision: DatasetRevision) -> bool:
    """After a check passed: publish the revision if its automatic publication was held back for it."""
    dataset = session.get(Dataset, revision.dataset_id, with_for_update=True)
    if dataset is None or dataset.publication != Publication.auto.value or revision.state != RevisionState.ready:
        return False
    if dataset.published_revision_id == revision.id:
        return False
    newest = session.scalar(
        select(func.max(DatasetRevision.number)).where(
            DatasetRevision.dataset_id == dataset.id, DatasetRevision.state == RevisionState.ready.value
        )
    )
    if newest != revision.number:
        return False
    publish(session, dataset, revision)  # the guards are asked again: other required checks may be pending
    return dataset.published_revision_id == revision.id


def run_check(session: Session, settings: Settings, check_id: uuid.UUID) -> IdsCheck:
    check = session.get(IdsCheck, check_id, with_for_update=True)
    if check is None:
        raise RequirementsNotFound("the check no longer exists")
    revision = session.get(DatasetRevision, check.revision_id)
    version = session.get(IdsVersion, check.ids_version_id)
    if revision is None or version is None:
        raise RequirementsNotFound("the revision or the IDS version no longer exists")
    try:
        model = open_model(source_path(settings, revision.source_path), shown_as=revision.source_filename)
        report = check_model(model, load_ids_text(version.xml))
    except CimError as error:
        check.state, check.message, check.result = CheckState.error.value, error.message, None
    else:
        check.state = CheckState.passed.value if report.passed else CheckState.failed.value
        check.result = report.to_dict()
        check.message = f"{report.failed_specifications} of {len(report.specifications)} specifications failed"
    check.checked_at = utcnow()
    session.flush()
    if check.state == CheckState.passed.value:
        _publish_if_waiting(session, revision)
    return check


def visible_dataset(session: Session, caller: Caller, dataset_id: uuid.UUID) -> Dataset:
    """Design institutes see their own models' checks and topics; officials (and admins) all."""
    caller.require(BimScope.read)
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or not (caller.reads_everything() or dataset.organization_id == caller.organization_id):
        raise RequirementsNotFound(f"no dataset {dataset_id} among the models you review")
    return dataset


def visible_revision(session: Session, caller: Caller, revision_id: uuid.UUID) -> DatasetRevision:
    revision = session.get(DatasetRevision, revision_id)
    if revision is None:
        raise RequirementsNotFound(f"no revision {revision_id}")
    visible_dataset(session, caller, revision.dataset_id)
    return revision


def checks_of(
    session: Session, caller: Caller, revision_id: uuid.UUID
) -> list[tuple[IdsCheck, IdsVersion, IdsDocument]]:
    revision = visible_revision(session, caller, revision_id)
    rows = session.execute(
        select(IdsCheck, IdsVersion, IdsDocument)
        .join(IdsVersion, IdsVersion.id == IdsCheck.ids_version_id)
        .join(IdsDocument, IdsDocument.id == IdsVersion.document_id)
        .where(IdsCheck.revision_id == revision.id)
        .order_by(IdsDocument.created_at)
    ).all()
    return [(c, v, d) for c, v, d in rows]


def request_checks(session: Session, caller: Caller, revision_id: uuid.UUID) -> list[IdsCheck]:
    """Check a revision now against the IDS that apply (the ones not checked yet)."""
    caller.require(BimScope.write)
    revision = visible_revision(session, caller, revision_id)
    dataset = session.get(Dataset, revision.dataset_id)
    assert dataset is not None
    if dataset.kind != DatasetKind.ifc.value:
        raise InvalidInput("only IFC models are checked against IDS", params={"kind": dataset.kind})
    return list(queue_checks(session, dataset, revision).values())


def summary(check: IdsCheck) -> dict[str, Any]:
    specifications = (check.result or {}).get("specifications", [])
    return {
        "specifications": [
            {
                "name": s["name"],
                "applies_to_model": s["applies_to_model"],
                "applicable": s["applicable_count"],
                "passed": s["passed"],
                "failed_elements": sum(r["failed_count"] for r in s["requirements"]),
            }
            for s in specifications
        ],
        "passed_specifications": sum(1 for s in specifications if s["applies_to_model"] and s["passed"]),
        "failed_specifications": sum(1 for s in specifications if s["applies_to_model"] and not s["passed"]),
    }

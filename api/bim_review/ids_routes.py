"""IDS files (officials) and the IDS checks of IFC revisions over HTTP."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

from api.bim_review.schemas import (
    FailingElements,
    IdsAssignmentOptions,
    IdsCheckedRevisions,
    IdsCheckList,
    IdsCheckPublic,
    IdsCreate,
    IdsList,
    IdsPublic,
    IdsUpdate,
    IdsVersionCreate,
)
from api.deps import CallerDep, SessionDep
from cim_platform.bim_review import checks, requirements
from cim_platform.bim_review.errors import RequirementsNotFound
from cim_platform.bim_review.models import IdsCheck, IdsDocument, IdsVersion
from cim_platform.datasets.models import DatasetKind

router = APIRouter(prefix="/api/v1/bim", tags=["bim-review"])
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="Optional: the IDS's ETag as read; 409 when it was changed since"),
]


def ids_view(session: Any, document: IdsDocument) -> IdsPublic:
    names = requirements.organization_names(session, list(document.organization_ids))
    return IdsPublic.model_validate(
        {
            "id": document.id,
            "name": document.name,
            "description": document.description,
            "active": document.active,
            "require_pass": document.require_pass,
            "organization_ids": document.organization_ids,
            "organizations": [{"id": o, "name": names.get(o, str(o))} for o in document.organization_ids],
            "district_codes": document.district_codes,
            "dataset_kinds": document.dataset_kinds,
            "current_version": document.current_version,
            "created_at": document.created_at,
            "updated_at": document.updated_at,
            "etag": requirements.etag(document),
            "versions": [
                {
                    "number": i.version.number,
                    "filename": i.version.filename,
                    "sha256": i.version.sha256,
                    "title": i.version.title,
                    "specifications": i.version.specifications,
                    "created_at": i.version.created_at,
                    "created_by": i.author,
                    "current": i.version.number == document.current_version,
                    "checks": i.checks,
                }
                for i in requirements.version_history(session, document.id)
            ],
        }
    )


def check_view(check: IdsCheck, version: IdsVersion, document: IdsDocument) -> IdsCheckPublic:
    return IdsCheckPublic.model_validate(
        {
            "id": check.id,
            "dataset_id": check.dataset_id,
            "revision_id": check.revision_id,
            "ids_id": document.id,
            "ids_name": document.name,
            "ids_version": version.number,
            "require_pass": document.require_pass,
            "state": check.state,
            "message": check.message,
            "job_url": f"/api/v1/jobs/{check.job_id}" if check.job_id else None,
            "checked_at": check.checked_at,
            "summary": checks.summary(check),
            "specifications": (check.result or {}).get("specifications", []),
        }
    )


@router.get("/ids", response_model=IdsList)
def list_ids(caller: CallerDep, session: SessionDep) -> IdsList:
    """The IDS files officials manage, with their versions and assignment (design institutes and other
    readers: the active ones assigned to their organisation or to every organisation)."""
    return IdsList(items=[ids_view(session, d) for d in requirements.list_documents(session, caller)])


@router.get("/ids-options", response_model=IdsAssignmentOptions)
def ids_options(caller: CallerDep, session: SessionDep) -> IdsAssignmentOptions:
    """What an IDS can be assigned to (officials): the platform's organisations and dataset kinds; the
    districts are those of GET /api/v1/districts."""
    return IdsAssignmentOptions.model_validate(
        {
            "organizations": [
                {"id": o.id, "name": o.name, "kind": o.kind} for o in requirements.organizations(session, caller)
            ],
            "dataset_kinds": [k.value for k in DatasetKind],
        }
    )


@router.post("/ids", status_code=201, response_model=IdsPublic)
def create_ids(body: IdsCreate, response: Response, caller: CallerDep, session: SessionDep) -> IdsPublic:
    """Upload an IDS (validated against the IDS 1.0 schema); it applies to every IFC dataset until assigned."""
    document = requirements.create_document(
        session,
        caller,
        name=body.name,
        description=body.description,
        filename=body.filename,
        xml_bytes=body.xml.encode(),
    )
    view = ids_view(session, document)
    session.commit()
    response.headers["Location"] = f"/api/v1/bim/ids/{document.id}"
    response.headers["ETag"] = view.etag
    return view


@router.get("/ids/{ids_id}", response_model=IdsPublic)
def get_ids(ids_id: uuid.UUID, response: Response, caller: CallerDep, session: SessionDep) -> IdsPublic:
    view = ids_view(session, requirements.get_document(session, caller, ids_id))
    response.headers["ETag"] = view.etag
    return view


@router.patch("/ids/{ids_id}", response_model=IdsPublic)
def update_ids(
    ids_id: uuid.UUID,
    body: IdsUpdate,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> IdsPublic:
    """Assignment (organisations, districts, dataset kinds: empty lists apply everywhere), active,
    and whether a pass is required before publishing. With If-Match: 409 when changed since."""
    document = requirements.update_document(
        session, caller, ids_id, body.model_dump(exclude_none=True), expected=if_match
    )
    view = ids_view(session, document)
    session.commit()
    response.headers["ETag"] = view.etag
    return view


@router.post("/ids/{ids_id}/versions", status_code=201, response_model=IdsPublic)
def add_ids_version(
    ids_id: uuid.UUID,
    body: IdsVersionCreate,
    response: Response,
    caller: CallerDep,
    session: SessionDep,
    if_match: IfMatch = None,
) -> IdsPublic:
    """A new version (validated like the first): revisions checked from now on are checked against it.
    With If-Match: 409 when the IDS was changed since."""
    requirements.add_version(session, caller, ids_id, body.filename, body.xml.encode(), expected=if_match)
    view = ids_view(session, requirements.get_document(session, caller, ids_id))
    session.commit()
    response.headers["ETag"] = view.etag
    return view


@router.get("/ids/{ids_id}/checks", response_model=IdsCheckedRevisions)
def ids_checked_revisions(ids_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> IdsCheckedRevisions:
    """The revisions checked against the IDS (any version), newest first; design institutes see their own."""
    return IdsCheckedRevisions.model_validate(
        {
            "items": [
                {
                    "check_id": row.check.id,
                    "dataset_id": row.dataset.id,
                    "dataset_name": row.dataset.name,
                    "revision_id": row.revision.id,
                    "revision_number": row.revision.number,
                    "ids_version": row.version_number,
                    "state": row.check.state,
                    "checked_at": row.check.checked_at,
                    "created_at": row.check.created_at,
                }
                for row in requirements.checked_revisions(session, caller, ids_id)
            ]
        }
    )


@router.get(
    "/ids/{ids_id}/versions/{number}/file",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}, "description": "The IDS file as uploaded"}},
)
def ids_file(ids_id: uuid.UUID, number: int, caller: CallerDep, session: SessionDep) -> Response:
    version = requirements.get_version(session, caller, ids_id, number)
    return Response(
        version.xml.encode(),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{version.filename}"'},
    )


@router.get("/revisions/{revision_id}/checks", response_model=IdsCheckList)
def list_checks(revision_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> IdsCheckList:
    """The IDS checks of an IFC revision: per specification and requirement, with the failing elements."""
    return IdsCheckList(items=[check_view(*row) for row in checks.checks_of(session, caller, revision_id)])


@router.post("/revisions/{revision_id}/checks", status_code=202, response_model=IdsCheckList)
def request_checks(revision_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> IdsCheckList:
    """Check the revision now against the IDS that apply and have not checked it yet."""
    checks.request_checks(session, caller, revision_id)
    session.commit()
    return IdsCheckList(items=[check_view(*row) for row in checks.checks_of(session, caller, revision_id)])


@router.get("/checks/{check_id}", response_model=IdsCheckPublic)
def get_ids_check(check_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> IdsCheckPublic:
    check = session.get(IdsCheck, check_id)
    if check is None:
        raise RequirementsNotFound(f"no IDS check {check_id}")
    for row in checks.checks_of(session, caller, check.revision_id):
        if row[0].id == check_id:
            return check_view(*row)
    raise RequirementsNotFound(f"no IDS check {check_id}")


@router.get("/revisions/{revision_id}/failing-elements", response_model=FailingElements)
def failing_elements(revision_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> FailingElements:
    """GlobalIds of the elements failing any applicable IDS (to colour them in the 3D city)."""
    found: set[str] = set()
    for check, _, _ in checks.checks_of(session, caller, revision_id):
        for spec in (check.result or {}).get("specifications", []):
            for requirement in spec["requirements"]:
                found.update(f["global_id"] for f in requirement["failures"] if f["global_id"])
    return FailingElements(revision_id=revision_id, global_ids=sorted(found))

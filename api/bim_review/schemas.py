"""BIM review over HTTP: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

MAX_IDS_CHARS = 2 * 1024 * 1024


class IdsCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    filename: str = Field(default="requirements.ids", min_length=1, max_length=300)
    xml: str = Field(min_length=1, max_length=MAX_IDS_CHARS, description="the IDS 1.0 document (XML text)")


class IdsVersionCreate(BaseModel):
    filename: str = Field(default="requirements.ids", min_length=1, max_length=300)
    xml: str = Field(min_length=1, max_length=MAX_IDS_CHARS)


class IdsUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    active: bool | None = None
    require_pass: bool | None = Field(default=None, description="hold back publishing until the check passes")
    organization_ids: list[uuid.UUID] | None = Field(default=None, max_length=500)
    district_codes: list[str] | None = Field(default=None, max_length=50)
    dataset_kinds: list[str] | None = Field(default=None, max_length=20)


class SpecificationInfo(BaseModel):
    name: str
    description: str
    ifc_versions: list[str]
    required: bool


class IdsVersionPublic(BaseModel):
    number: int
    filename: str
    sha256: str
    title: str
    specifications: list[SpecificationInfo]
    created_at: datetime
    created_by: str | None = Field(default=None, description="the username of who uploaded it")
    current: bool = Field(default=False, description="the version revisions are checked against from now on")
    checks: int = Field(default=0, description="how many revisions were checked against this version")


class OrganizationRef(BaseModel):
    id: uuid.UUID
    name: str


class IdsPublic(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    active: bool
    require_pass: bool
    organization_ids: list[uuid.UUID]
    organizations: list[OrganizationRef] = Field(default_factory=list, description="the assigned organisations")
    district_codes: list[str]
    dataset_kinds: list[str]
    current_version: int
    versions: list[IdsVersionPublic]
    created_at: datetime
    updated_at: datetime | None = None
    etag: str = Field(description="send it as If-Match with PATCH or a new version: 409 if changed meanwhile")


class OrganizationOption(OrganizationRef):
    kind: str


class IdsAssignmentOptions(BaseModel):
    """What an IDS can be assigned to (officials): organisations, districts (codes), dataset kinds."""

    organizations: list[OrganizationOption]
    dataset_kinds: list[str]


class IdsCheckedRevision(BaseModel):
    check_id: uuid.UUID
    dataset_id: uuid.UUID
    dataset_name: str
    revision_id: uuid.UUID
    revision_number: int
    ids_version: int
    state: str
    checked_at: datetime | None
    created_at: datetime


class IdsCheckedRevisions(BaseModel):
    items: list[IdsCheckedRevision]


class IdsList(BaseModel):
    items: list[IdsPublic]


class FailingElementPublic(BaseModel):
    global_id: str
    ifc_class: str
    name: str
    reason: str


class RequirementPublic(BaseModel):
    description: str
    facet: str
    passed: bool
    passed_count: int
    failed_count: int
    failures: list[FailingElementPublic]


class SpecificationPublic(BaseModel):
    name: str
    description: str
    ifc_versions: list[str]
    applies_to_model: bool
    applicable_count: int
    passed: bool
    requirements: list[RequirementPublic]


class SpecificationSummary(BaseModel):
    name: str
    applies_to_model: bool
    applicable: int
    passed: bool
    failed_elements: int


class CheckSummary(BaseModel):
    specifications: list[SpecificationSummary]
    passed_specifications: int
    failed_specifications: int


class IdsCheckPublic(BaseModel):
    id: uuid.UUID
    dataset_id: uuid.UUID
    revision_id: uuid.UUID
    ids_id: uuid.UUID
    ids_name: str
    ids_version: int
    require_pass: bool
    state: str = Field(description="queued, passed, failed or error (the model could not be read)")
    message: str
    job_url: str | None
    checked_at: datetime | None
    summary: CheckSummary
    specifications: list[SpecificationPublic]


class IdsCheckList(BaseModel):
    items: list[IdsCheckPublic]


class FailingElements(BaseModel):
    revision_id: uuid.UUID
    global_ids: list[str] = Field(description="elements failing any requirement of any applicable IDS")


class DiffRequest(BaseModel):
    old_revision: uuid.UUID
    new_revision: uuid.UUID


class DiffElement(BaseModel):
    global_id: str
    ifc_class: str
    name: str


class ChangedElement(DiffElement):
    changes: list[str] = Field(description="geometry, attributes, properties, type, container")
    details: dict[str, Any]


class DiffSummary(BaseModel):
    added: int
    deleted: int
    changed: int
    changed_by_kind: dict[str, int]


class DiffPublic(BaseModel):
    id: uuid.UUID
    dataset_id: uuid.UUID
    old_revision_id: uuid.UUID
    new_revision_id: uuid.UUID
    state: str = Field(description="queued, passed (computed) or error")
    message: str
    job_url: str | None
    summary: DiffSummary | None
    added: list[DiffElement]
    deleted: list[DiffElement]
    changed: list[ChangedElement]
    created_at: datetime
    finished_at: datetime | None


class DiffList(BaseModel):
    items: list[DiffPublic]

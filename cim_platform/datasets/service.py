"""Datasets and revisions: creation, listing with filters and visibility, publishing."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller, Scope
from cim_platform.core.audit import fields_of, record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput, NotFound
from cim_platform.core.jobs.models import Job
from cim_platform.core.jobs.service import create_job
from cim_platform.core.settings import Settings
from cim_platform.datasets.jobs import CONVERT_TASK
from cim_platform.datasets.models import (
    Dataset,
    DatasetKind,
    DatasetRevision,
    District,
    RevisionState,
    TileContent,
    Visibility,
)
from cim_platform.datasets.sources import IncomingFile, keep_source
from converters.api import check_input, detect_kind
from converters.errors import ConversionError
from converters.options import ConvertOptions

LOD_BY_KIND = {"ifc": "LOD3", "pointcloud": "points", "mesh": "mesh", "footprints": "LOD1"}
AUDITED_DATASET_FIELDS = ("id", "organization_id", "name", "kind", "district_code", "visibility", "description", "lod")
AUDITED_REVISION_FIELDS = (
    "id",
    "dataset_id",
    "number",
    "state",
    "source_filename",
    "source_bytes",
    "source_sha256",
    "convert_params",
    "job_id",
)


def resolve_district(session: Session, value: str | None) -> str | None:
    """A district code from its code, slug or (English or Chinese) name; None for none."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    district = session.scalar(
        select(District).where(
            or_(District.code == text, District.slug == text.lower(), District.name == text, District.name_zh == text)
        )
    )
    if district is None:
        known = ", ".join(session.scalars(select(District.slug).order_by(District.code)))
        raise InvalidInput(f"unknown district {text!r}; expected a code or one of: {known}")
    return district.code


def resolve_kind(filename: str, declared: str | None, source: Path | None = None) -> str:
    """The dataset kind of an upload: declared, else from its name (and its bytes, ``source``, where
    several kinds share a suffix, e.g. a DEM or an orthophoto .tif)."""
    if declared and declared not in DatasetKind.__members__:
        raise InvalidInput(f"unknown kind {declared!r}; expected one of: {', '.join(DatasetKind.__members__)}")
    try:
        return detect_kind(source or Path(filename), declared or None, filename=filename)
    except ConversionError as error:  # not a format we read, or refused at first look (a hostile archive)
        raise InvalidInput(str(error)) from None


def check_source(kind: str, source: Path, params: dict[str, Any]) -> None:
    """Refuse at upload what the kind's converter would refuse at once (an unreadable raster, a DEM
    without CRS…): 422, nothing stored."""
    try:
        check_input(source, kind, ConvertOptions(crs=params.get("crs")))
    except ConversionError as error:
        raise InvalidInput(str(error)) from None


def resolve_visibility(value: str | None) -> str:
    value = (value or Visibility.internal.value).strip()
    if value not in Visibility.__members__:
        raise InvalidInput(f"visibility must be public or internal, got {value!r}")
    return value


def create_dataset(
    session: Session,
    caller: Caller,
    *,
    name: str,
    kind: str,
    district: str | None,
    visibility: str | None,
    description: str = "",
) -> Dataset:
    caller.require(Scope.datasets_write)
    if not name.strip():
        raise InvalidInput("a dataset needs a name")
    dataset = Dataset(
        organization_id=caller.organization_id,
        name=name.strip()[:300],
        kind=kind,
        district_code=resolve_district(session, district),
        visibility=resolve_visibility(visibility),
        description=description,
        lod=LOD_BY_KIND.get(kind),
        created_by=caller.user_id,
    )
    session.add(dataset)
    session.flush()
    record_change(
        session,
        caller,
        action="dataset.created",
        object_type="dataset",
        object_id=str(dataset.id),
        before=None,
        after=fields_of(dataset, *AUDITED_DATASET_FIELDS),
    )
    return dataset


@dataclass
class NewRevision:
    revision: DatasetRevision
    job: Job


def add_revision(
    session: Session,
    settings: Settings,
    caller: Caller,
    dataset: Dataset,
    incoming: IncomingFile,
    convert_params: dict[str, Any],
) -> NewRevision:
    """A new revision from a finished upload, with its conversion job (to enqueue after commit)."""
    caller.check_manages(dataset.organization_id, what="dataset")
    session.execute(select(Dataset.id).where(Dataset.id == dataset.id).with_for_update())
    number = (
        session.scalar(select(func.max(DatasetRevision.number)).where(DatasetRevision.dataset_id == dataset.id)) or 0
    ) + 1
    revision = DatasetRevision(
        id=uuid.uuid4(),
        dataset_id=dataset.id,
        number=number,
        state=RevisionState.pending.value,
        source_filename=incoming.filename,
        source_path="",
        source_bytes=incoming.size,
        source_sha256=incoming.sha256,
        convert_params={**convert_params, "kind": dataset.kind},
        created_by=caller.user_id,
    )
    revision.source_path = keep_source(settings, incoming, revision.id)
    session.add(revision)
    session.flush()
    job = create_job(
        session,
        CONVERT_TASK,
        {"dataset_id": str(dataset.id), "revision_id": str(revision.id), "kind": dataset.kind},
        organization_id=dataset.organization_id,
        user_id=caller.user_id,
    )
    revision.job_id = job.id
    dataset.updated_at = utcnow()
    record_change(
        session,
        caller,
        action="revision.added",
        object_type="dataset_revision",
        object_id=str(revision.id),
        before=None,
        after=fields_of(revision, *AUDITED_REVISION_FIELDS),
    )
    return NewRevision(revision, job)


class DatasetSort(enum.StrEnum):
    newest = "-created_at"
    oldest = "created_at"
    recently_updated = "-updated_at"
    least_recently_updated = "updated_at"
    name = "name"
    name_descending = "-name"


@dataclass
class DatasetPage:
    datasets: list[Dataset]
    total: int


@dataclass
class DatasetFilter:
    kind: str | None = None
    district: str | None = None
    organization_id: uuid.UUID | None = None
    bbox: tuple[float, float, float, float] | None = None
    text: str | None = None
    limit: int = 100
    offset: int = 0
    sort: DatasetSort = DatasetSort.newest


def visible_datasets(caller: Caller) -> Select[Dataset]:
    query = select(Dataset)
    if caller.reads_everything():
        return query
    conditions = [Dataset.visibility == Visibility.public.value]
    if caller.organization_id is not None:
        conditions.append(Dataset.organization_id == caller.organization_id)
    return query.where(or_(*conditions))


def visible_published(caller: Caller) -> Select[Any]:
    """The datasets the caller can see that have a published revision, each row (dataset, that revision)."""
    return (
        visible_datasets(caller)
        .add_columns(DatasetRevision)
        .join(DatasetRevision, DatasetRevision.id == Dataset.published_revision_id)
    )


def _order(sort: DatasetSort) -> tuple[Any, ...]:
    column = {"created_at": Dataset.created_at, "updated_at": Dataset.updated_at, "name": Dataset.name}[
        sort.value.lstrip("-")
    ]
    ordered = column.desc().nulls_last() if sort.value.startswith("-") else column.asc().nulls_last()
    return ordered, Dataset.id


def list_datasets(session: Session, caller: Caller, filters: DatasetFilter) -> DatasetPage:
    query = visible_datasets(caller)
    if filters.kind:
        query = query.where(Dataset.kind == filters.kind)
    if filters.district:
        query = query.where(Dataset.district_code == resolve_district(session, filters.district))
    if filters.organization_id:
        query = query.where(Dataset.organization_id == filters.organization_id)
    if filters.bbox:
        west, south, east, north = filters.bbox
        query = query.where(func.ST_Intersects(Dataset.footprint, func.ST_MakeEnvelope(west, south, east, north, 4326)))
    if filters.text:
        escaped = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(or_(Dataset.name.ilike(pattern), Dataset.description.ilike(pattern)))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    query = query.order_by(*_order(filters.sort)).limit(filters.limit).offset(filters.offset)
    return DatasetPage(list(session.scalars(query)), total)


def get_dataset(session: Session, caller: Caller, dataset_id: uuid.UUID) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    public = dataset.visibility == Visibility.public
    caller.check_visible(dataset.organization_id, public=public, what=f"dataset {dataset_id}")
    return dataset


def get_managed_dataset(session: Session, caller: Caller, dataset_id: uuid.UUID) -> Dataset:
    """A dataset the caller may change: 404 if invisible to them, 403 if visible but another's."""
    dataset = get_dataset(session, caller, dataset_id)
    caller.check_manages(dataset.organization_id, what="dataset")
    return dataset


def get_revision(session: Session, dataset: Dataset, revision_id: uuid.UUID) -> DatasetRevision:
    revision = session.get(DatasetRevision, revision_id)
    if revision is None or revision.dataset_id != dataset.id:
        raise NotFound(f"no revision {revision_id} in dataset {dataset.id}")
    return revision


WITHDRAWAL_REASON_MAX = 2000


def withdraw_revision(
    session: Session, caller: Caller, dataset: Dataset, revision_id: uuid.UUID, reason: str
) -> list[str]:
    """Withdraw a ready revision that is not the published one: its pinned URLs stop being served (410).

    Returns the SHA-256 of its contents that no other servable revision shares (the on-disk cache may
    drop those files). The caller must manage the dataset (its organisation, or an admin)."""
    caller.require(Scope.datasets_write)
    caller.check_manages(dataset.organization_id, what="dataset")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the revision is withdrawn (reason)")
    if len(reason) > WITHDRAWAL_REASON_MAX:
        raise InvalidInput(f"the reason is longer than {WITHDRAWAL_REASON_MAX} characters", params={"max_length": 2000})
    # one at a time with publishing (which changes published_revision_id under the same row)
    session.execute(select(Dataset.id).where(Dataset.id == dataset.id).with_for_update())
    session.refresh(dataset)
    revision = get_revision(session, dataset, revision_id)
    session.refresh(revision, with_for_update=True)
    if revision.state == RevisionState.withdrawn.value:
        raise Conflict(f"revision {revision.number} is already withdrawn")
    if dataset.published_revision_id == revision.id:
        raise Conflict(
            f"revision {revision.number} is the published one; publish another revision first "
            "(POST .../revisions/{id}/publish), then withdraw this one"
        )
    if revision.state != RevisionState.ready.value:
        raise Conflict(f"revision {revision.number} is {revision.state}; only a ready revision can be withdrawn")
    before = {"state": revision.state}
    revision.state = RevisionState.withdrawn.value
    revision.withdrawn_at = utcnow()
    revision.withdrawn_by = caller.user_id
    revision.withdrawal_reason = reason
    dataset.updated_at = revision.withdrawn_at
    session.flush()
    record_change(
        session,
        caller,
        action="revision.withdrawn",
        object_type="dataset_revision",
        object_id=str(revision.id),
        before=before,
        after={
            "state": revision.state,
            "dataset_id": str(dataset.id),
            "number": revision.number,
            "withdrawn_at": revision.withdrawn_at.isoformat(),
            "withdrawn_by": str(caller.user_id) if caller.user_id else None,
            "reason": reason,
        },
    )
    shared = (
        select(TileContent.sha256)
        .join(DatasetRevision, DatasetRevision.id == TileContent.revision_id)
        .where(DatasetRevision.state != RevisionState.withdrawn.value)
    )
    return list(
        session.scalars(
            select(TileContent.sha256)
            .where(TileContent.revision_id == revision.id, TileContent.sha256.not_in(shared))
            .distinct()
        )
    )

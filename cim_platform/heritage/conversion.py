"""Archive items that are point clouds, meshes or BIM models go through the same conversion jobs as any
upload: a copy of the original becomes a revision of a dataset of its own, linked to the item (and so
to the record: ``GET /api/v1/heritage/buildings?dataset=`` finds the record of a dataset clicked in
the 3D city)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.errors import InvalidInput
from cim_platform.core.settings import Settings
from cim_platform.datasets import service as datasets
from cim_platform.datasets.sources import begin_upload, source_path
from cim_platform.heritage.models import ArchiveItem, Building, ItemKind

CONVERTIBLE = {ItemKind.point_cloud: "pointcloud", ItemKind.model_3d: "mesh", ItemKind.bim_model: "ifc"}


def convert_item(
    session: Session, settings: Settings, caller: Caller, building: Building, item: ArchiveItem, params: dict[str, Any]
) -> uuid.UUID:
    """Create the dataset and its conversion job (to enqueue after commit); the job's id."""
    dataset_kind = CONVERTIBLE.get(ItemKind(item.kind))
    if dataset_kind is None:
        kinds = ", ".join(k.value for k in CONVERTIBLE)
        raise InvalidInput(f"only {kinds} items are converted", params={"kind": item.kind})
    kind = datasets.resolve_kind(item.filename, dataset_kind)
    copy = begin_upload(settings, item.filename)
    try:
        with source_path(settings, item.path).open("rb") as original:
            for chunk in iter(lambda: original.read(1 << 20), b""):
                copy.write(chunk)
        copy.finish()
        dataset = datasets.create_dataset(
            session,
            caller,
            name=f"{building.code} {item.title}",
            kind=kind,
            district=building.district_code,
            visibility="internal",
            description=f"Archive item {item.id} of historic building {building.code} ({building.name})",
        )
        new = datasets.add_revision(session, settings, caller, dataset, copy, params)
    except BaseException:
        copy.discard()
        raise
    item.dataset_id = dataset.id
    session.flush()
    record_change(
        session,
        caller,
        action="heritage.item.converted",
        object_type="heritage_building",
        object_id=str(building.id),
        before=None,
        after={"item_id": str(item.id), "dataset_id": str(dataset.id), "job_id": str(new.job.id)},
    )
    return new.job.id

"""What changed between two IFC models, with ifcdiff (no database): elements added, deleted and
changed (geometry, attributes, properties, type, container)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import ifcdiff  # type: ignore[import-untyped]
import ifcopenshell

from cim_platform.bim_review.ids_check import open_model

RELATIONSHIPS = ["attributes", "geometry", "property", "type", "container"]
CHANGE_KINDS = {
    "attributes_changed": "attributes",
    "geometry_changed": "geometry",
    "properties_changed": "properties",
    "type_changed": "type",
    "container_changed": "container",
}


def _element(model: ifcopenshell.file, global_id: str) -> dict[str, str]:
    element = model.by_guid(global_id)
    return {"global_id": global_id, "ifc_class": element.is_a(), "name": str(getattr(element, "Name", None) or "")}


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def diff_models(old: ifcopenshell.file, new: ifcopenshell.file) -> dict[str, Any]:
    differ = ifcdiff.IfcDiff(old, new, relationships=RELATIONSHIPS, is_shallow=False)
    with contextlib.redirect_stdout(io.StringIO()):  # ifcdiff prints its progress
        differ.diff()
    changed = []
    for global_id, register in sorted(differ.change_register.items()):
        kinds = sorted(CHANGE_KINDS[key] for key, value in register.items() if key in CHANGE_KINDS and value)
        details = {CHANGE_KINDS[k]: _json_safe(v) for k, v in register.items() if k in CHANGE_KINDS and v is not True}
        changed.append({**_element(new, global_id), "changes": kinds, "details": details})
    added = [_element(new, g) for g in sorted(differ.added_elements)]
    deleted = [_element(old, g) for g in sorted(differ.deleted_elements)]
    by_kind = {kind: sum(1 for c in changed if kind in c["changes"]) for kind in CHANGE_KINDS.values()}
    return {
        "summary": {"added": len(added), "deleted": len(deleted), "changed": len(changed), "changed_by_kind": by_kind},
        "added": added,
        "deleted": deleted,
        "changed": changed,
    }


def diff_files(old_path: Path, new_path: Path) -> dict[str, Any]:
    return diff_models(open_model(old_path), open_model(new_path))

"""A record's whole archive as a BagIt package (RFC 8493, the ``bagit`` library), zipped, to deposit in
an archive system and verify later.

Layout of the payload (``data/``): ``record.json`` (the record, EPSG:4490 GeoJSON), ``items.json``
(every item, every version, with its metadata, QA log and SHA-256), ``history.json`` (the audit trail of
the record) and ``items/<section>/<item id>/<original file name>`` (the original files, byte for byte).
The manifests are SHA-256 and SHA-512; each original's SHA-256 is checked against the one recorded
when it was filed before it is packed.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import bagit

from cim_platform.core.audit import fields_of, jsonable
from cim_platform.core.errors import CimError
from cim_platform.core.settings import Settings
from cim_platform.datasets.sources import source_path
from cim_platform.heritage.fields import snapshot
from cim_platform.heritage.models import ArchiveItem, Building

ITEM_FIELDS = (
    "id",
    "section",
    "kind",
    "title",
    "description",
    "event_date",
    "filename",
    "bytes",
    "sha256",
    "format",
    "plane_datum",
    "height_datum",
    "survey_tier",
    "accuracy",
    "captured_on",
    "surveyor",
    "organisation",
    "equipment",
    "qa_stage",
    "qa_log",
    "version_no",
    "supersedes_id",
    "superseded_at",
    "retired_at",
    "retired_reason",
    "created_at",
)


class ArchiveDamaged(CimError):
    """A kept original no longer matches its recorded SHA-256: the package is refused."""

    code = "archive_damaged"
    blames_input = False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def bag_name(code: str) -> str:
    """The bag's folder (and file) name: ``heritage-<code>`` with only safe characters."""
    return "heritage-" + re.sub(r"[^\w.-]+", "_", code).strip("._")


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")


def build_package(
    settings: Settings,
    building: Building,
    items: list[ArchiveItem],
    history: list[dict[str, Any]],
    target: Path,
) -> Path:
    """Write the zipped bag of ``building`` to ``target`` (a .zip path); returns it."""
    with tempfile.TemporaryDirectory(prefix="heritage-bag-") as temp:
        root = Path(temp) / bag_name(building.code)
        payload = root / "items"
        payload.mkdir(parents=True)
        for item in items:
            original = source_path(settings, item.path)
            if _sha256(original) != item.sha256:
                raise ArchiveDamaged(f"the original of item {item.id} ({item.filename}) no longer matches its SHA-256")
            folder = payload / item.section / str(item.id)
            folder.mkdir(parents=True)
            shutil.copyfile(original, folder / item.filename)
        _write_json(root / "record.json", snapshot(building) | {"id": str(building.id)})
        _write_json(root / "items.json", [jsonable(fields_of(item, *ITEM_FIELDS)) for item in items])
        _write_json(root / "history.json", history)
        bagit.make_bag(
            str(root),
            bag_info={
                "Source-Organization": "Ordos CIM platform",
                "External-Identifier": building.code,
                "External-Description": f"Historic building archive: {building.name}",
            },
            checksums=["sha256", "sha512"],
        )
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(root.parent).as_posix())
    return target

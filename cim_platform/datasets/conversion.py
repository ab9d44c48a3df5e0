"""The conversion job: run the converter in a child process, store every file of the tileset in
PostGIS and publish the revision, all in one transaction (a worker killed half-way leaves nothing
half-published, and the job runs again)."""

from __future__ import annotations

import json
import logging
import os
import selectors
import shutil
import subprocess
import sys
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon, shape
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from cim_platform.core.db.base import utcnow
from cim_platform.core.db.engine import session_scope
from cim_platform.core.jobs.registry import JobAborted, JobRun
from cim_platform.datasets.errors import InvalidSourceData
from cim_platform.datasets.models import Dataset, DatasetRevision, Publication, RevisionState, TileContent
from cim_platform.datasets.publishing import publish
from cim_platform.datasets.sources import source_path
from cim_platform.datasets.tilestore import (
    StoredFile,
    media_type,
    origin_from_transform,
    read_tileset_folder,
    root_extent,
)
from converters.api import TILESET_NAME
from converters.process_guard import die_with_parent
from converters.terrain import CONTENTS_NAME  # converters writing no tileset.json list their files in it

logger = logging.getLogger(__name__)


def _footprint(report: dict[str, Any]) -> MultiPolygon | None:
    geometry = report.get("footprint_wgs84")
    if not isinstance(geometry, dict) or "type" not in geometry:
        return None
    try:
        footprint = shape(geometry)
    except (ValueError, TypeError, AttributeError):
        return None
    if isinstance(footprint, Polygon):
        footprint = MultiPolygon([footprint])
    if not isinstance(footprint, MultiPolygon) or footprint.is_empty:
        return None
    return footprint


def _georef_fields(report: dict[str, Any]) -> tuple[str | None, str | None]:
    georef = report.get("georeferencing") or {}
    source = georef.get("source") or georef.get("mode")
    crs = report.get("crs") or georef.get("crs")
    while isinstance(crs, dict):
        crs = crs.get("crs") or crs.get("name")
    return (str(source)[:100] if source else None), (str(crs)[:100] if crs else None)


def run_child(run: JobRun, source: Path, out_dir: Path, params: dict[str, Any]) -> dict[str, Any]:
    """Run ``python -m converters`` and relay its progress; the report, or InvalidSourceData."""
    command = [sys.executable, "-m", "converters", str(source), str(out_dir), "--options", json.dumps(params)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    stderr_path = out_dir.with_suffix(".stderr")
    stderr_file = stderr_path.open("w")
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        env=env,
        text=True,
        preexec_fn=partial(die_with_parent, os.getpid()),  # a crashed worker leaves no orphan converter
    )
    selector = selectors.DefaultSelector()
    assert child.stdout is not None
    selector.register(child.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + run.settings.job_timeout_s
    report: dict[str, Any] | None = None
    error: str | None = None
    try:
        while True:
            if run.should_abort():
                raise JobAborted("cancelled")
            if time.monotonic() > deadline:
                raise InvalidSourceData(f"the conversion took longer than {run.settings.job_timeout_s:.0f} s")
            if not selector.select(timeout=0.5):
                if child.poll() is not None:
                    break
                continue
            line = child.stdout.readline()
            if not line:
                break
            try:
                message = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "progress" in message:
                run.report_progress(0.9 * float(message["progress"]), str(message.get("message", "")))
            elif "report" in message:
                report = message["report"]
            elif "error" in message:
                error = str(message["error"])
        child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        selector.close()
        stderr_file.close()
    if error is not None:
        raise InvalidSourceData(error)
    if child.returncode != 0 or report is None:
        stderr = stderr_path.read_text(errors="replace").strip().splitlines()
        logger.error("converter exited with %s: %s", child.returncode, "\n".join(stderr[-20:]))
        raise RuntimeError(f"converter exited with code {child.returncode}")
    return report


def read_contents_folder(folder: Path) -> list[StoredFile]:
    """The files a terrain or imagery conversion lists in ``contents.json``, with their extents."""
    listing = json.loads((folder / CONTENTS_NAME).read_text(encoding="utf-8"))
    files: list[StoredFile] = []
    root = folder.resolve()
    for entry in listing["files"]:
        path = (folder / entry["path"]).resolve()
        if not path.is_file() or not path.is_relative_to(root):
            raise InvalidSourceData(f"the converter lists {entry['path']!r}, which it did not write")
        files.append(
            StoredFile(
                entry["path"],
                path,
                entry.get("media_type") or media_type(entry["path"]),
                path.stat().st_size,
                entry.get("geometric_error"),
                entry.get("bounds_wkt"),
                entry.get("min_height"),
                entry.get("max_height"),
            )
        )
    return files


def _read_outputs(
    out_dir: Path, report: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[StoredFile], float | None, float | None]:
    """The tileset (None for terrain and imagery), the files to store and the height range."""
    if not (out_dir / TILESET_NAME).is_file() and (out_dir / CONTENTS_NAME).is_file():
        return None, read_contents_folder(out_dir), report.get("min_height"), report.get("max_height")
    tileset, files = read_tileset_folder(out_dir)
    _, min_h, max_h = root_extent(tileset)
    return tileset, files, min_h, max_h


def store_and_publish(
    run: JobRun, dataset_id: uuid.UUID, revision_id: uuid.UUID, out_dir: Path, report: dict[str, Any]
) -> dict[str, Any]:
    tileset, files, min_h, max_h = _read_outputs(out_dir, report)
    origin = origin_from_transform(tileset["root"].get("transform")) if tileset is not None else None
    footprint = _footprint(report)
    source, crs = _georef_fields(report)
    with session_scope(run.engine) as session:
        revision = session.get(DatasetRevision, revision_id, with_for_update=True)
        dataset = session.get(Dataset, dataset_id, with_for_update=True)
        if revision is None or dataset is None or revision.state != RevisionState.pending.value:
            # cancelled, failed or stored by another run meanwhile: its stored tiles are never rewritten
            state = revision.state if revision is not None else "gone"
            return {"tiles": 0, "bytes": 0, "published": False, "skipped": f"revision is {state}"}
        session.execute(delete(TileContent).where(TileContent.revision_id == revision_id))
        _insert_files(session, revision_id, files)
        revision.tileset, revision.report = tileset, report
        revision.georef_source, revision.crs = source, crs
        revision.root_transform = tileset["root"].get("transform") if tileset is not None else None
        if origin is not None:
            revision.origin_ecef = origin[0]
            lon, lat, h = origin[1]
            revision.origin = f"SRID=4326;POINT Z ({lon} {lat} {h})"
        revision.footprint = from_shape(footprint, srid=4326) if footprint is not None else None
        revision.min_height, revision.max_height = min_h, max_h
        revision.tile_count, revision.tile_bytes = len(files), sum(f.size for f in files)
        revision.state, revision.converted_at = RevisionState.ready.value, utcnow()
        session.flush()
        newest_ready = _publishes_on_arrival(session, dataset, revision)
        if newest_ready:
            publish(session, dataset, revision)
    return {"tiles": len(files), "bytes": sum(f.size for f in files), "published": newest_ready}


INSERT_BATCH_BYTES = 32 * 1024 * 1024


def _insert_files(session: Any, revision_id: uuid.UUID, files: list[StoredFile]) -> None:
    """Insert the files in batches of bounded size: memory stays flat whatever the tileset's size."""
    batch: list[dict[str, Any]] = []
    batch_bytes = 0
    for stored in files:
        data, sha256 = stored.read()
        batch.append(
            {
                "revision_id": revision_id,
                "path": stored.path,
                "media_type": stored.media_type,
                "data": data,
                "size": len(data),
                "sha256": sha256,
                "geometric_error": stored.geometric_error,
                "bounds": f"SRID=4326;{stored.bounds_wkt}" if stored.bounds_wkt else None,
                "min_height": stored.min_height,
                "max_height": stored.max_height,
            }
        )
        batch_bytes += len(data)
        if batch_bytes >= INSERT_BATCH_BYTES or len(batch) >= 500:
            session.execute(insert(TileContent), batch)
            batch, batch_bytes = [], 0
    if batch:
        session.execute(insert(TileContent), batch)


def _publishes_on_arrival(session: Session, dataset: Dataset, revision: DatasetRevision) -> bool:
    """A newly converted revision is published unless a newer one is, or an owner pinned an older
    revision (a rollback stays a rollback until they publish again)."""
    if dataset.published_revision_id is None:
        return True
    published = session.get(DatasetRevision, dataset.published_revision_id)
    if published is None:
        return True
    return dataset.publication == Publication.auto and published.number < revision.number


def mark_revision(session: Session, revision_id: uuid.UUID, state: str) -> None:
    """A pending revision becomes cancelled or failed (a ready one is never touched)."""
    revision = session.get(DatasetRevision, revision_id, with_for_update=True)
    if revision is not None and revision.state == RevisionState.pending.value:
        revision.state = RevisionState.cancelled.value if state == "cancelled" else RevisionState.failed.value


def _mark_revision(run: JobRun, revision_id: uuid.UUID, state: RevisionState) -> None:
    with session_scope(run.engine) as session:
        mark_revision(session, revision_id, state.value)


def run_conversion(run: JobRun) -> dict[str, Any]:
    dataset_id, revision_id = uuid.UUID(run.params["dataset_id"]), uuid.UUID(run.params["revision_id"])
    with session_scope(run.engine) as session:
        revision = session.get(DatasetRevision, revision_id)
        if revision is None:
            raise InvalidSourceData(f"revision {revision_id} no longer exists")
        if revision.state == RevisionState.ready.value:
            return {"tiles": revision.tile_count, "bytes": revision.tile_bytes, "published": None}
        source, params = source_path(run.settings, revision.source_path), dict(revision.convert_params or {})
    if run.settings.geoid_grid is not None:
        params["geoid_grid"] = str(run.settings.geoid_grid.expanduser().resolve())
    for leftover in run.settings.work_dir.glob(f"{revision_id}-*"):  # of an earlier attempt whose worker died
        shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)
    out_dir = run.settings.work_dir / f"{revision_id}-{uuid.uuid4().hex[:8]}"
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        run.report_progress(0.0, "converting")
        report = run_child(run, source, out_dir, params)
        run.report_progress(0.92, "storing tiles")
        result = store_and_publish(run, dataset_id, revision_id, out_dir, report)
    except JobAborted:
        _mark_revision(run, revision_id, RevisionState.cancelled)
        raise
    except Exception:
        _mark_revision(run, revision_id, RevisionState.failed)
        raise
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
        out_dir.with_suffix(".stderr").unlink(missing_ok=True)
    return result

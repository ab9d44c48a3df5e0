"""Public, revision-pinned contents laid out for nginx to send without asking the platform.

Behind nginx (``cim deploy nginx-conf``) an anonymous request for a public dataset's revision-pinned
content whose URL names the content's SHA-256 (``?v=<sha256>``, as the served tileset.json writes
it) is answered by nginx from this tree with ``try_files``, with the platform's own headers (the
ETag is that SHA-256). The platform fills the tree on the first such read (nginx tells it so), as
hard links to the content-addressed on-disk cache:

    <root>/<dataset id>/<revision id>/<sha256>/<content path>

The bare server (no nginx) answers the same reads from this tree in its HTTP protocol, and fills it
itself when it answers such a read (``api.public_front``, ``api.datasets.public_fill``).

A file is here only while its dataset is public and its revision is served. A fill links the file,
then reads the dataset's state again from the database and unlinks it if it is no longer servable,
so a fill racing with a visibility change never leaves a file behind; every server process sweeps
the tree every ``CIM_TILE_ACCESS_TTL_S`` seconds and removes what is no longer servable (a dataset
made internal, deleted, a revision withdrawn), whatever path made the change. PostGIS stays the
source of truth: deleting the tree loses nothing, the next reads fill it again.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from cim_platform.datasets.disk_cache import SHA256

log = logging.getLogger(__name__)

FOLDER = "public"
"""The tree's folder below the on-disk cache's root (beside its two-hex-digit folders)."""

Servable = Callable[[Iterable[uuid.UUID]], set[tuple[uuid.UUID, uuid.UUID]]]
"""Of these datasets, the (dataset, revision) pairs anonymous callers may read now (from the database)."""


def safe_relative(path: str) -> PurePosixPath | None:
    """A content path as a relative path inside the tree, or None if it could leave it."""
    if "\\" in path or "\x00" in path or any(part in ("", ".", "..") for part in path.split("/")):
        return None  # (nginx's $uri has no empty, "." or ".." segment either: such a path is never asked)
    return PurePosixPath(path)


class PublicTree:
    def __init__(self, root: Path, servable: Servable, sweep_every_s: float) -> None:
        self.root, self._servable = root, servable
        self._sweep_every_s = max(sweep_every_s, 0.5)  # CIM_TILE_ACCESS_TTL_S may be 0
        self._sweeper: threading.Thread | None = None
        self._guard = threading.Lock()

    def path(self, dataset_id: uuid.UUID, revision_id: uuid.UUID, sha256: str, content_path: str) -> Path | None:
        relative = safe_relative(content_path)
        if relative is None or not SHA256.fullmatch(sha256):
            return None
        return self.root / str(dataset_id) / str(revision_id) / sha256 / relative

    def share(
        self, dataset_id: uuid.UUID, revision_id: uuid.UUID, sha256: str, content_path: str, source: Path
    ) -> bool:
        """Put a content (its file in the on-disk cache) in the tree; whether it is there afterwards."""
        target = self.path(dataset_id, revision_id, sha256, content_path)
        if target is None:
            return False
        self._start_sweeper()
        if target.exists():  # checked when it was linked; the sweep keeps it honest since
            return True
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.parent / f".link-{uuid.uuid4().hex}"
        try:
            try:
                os.link(source, temporary)
            except OSError:  # another file system: a copy, still renamed into place whole
                shutil.copyfile(source, temporary)
                os.chmod(temporary, 0o644)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        # read again after linking: a change committed meanwhile is seen here, or its sweep sees the file;
        # if the database cannot say, the file goes too (nginx must never send what was not confirmed)
        try:
            servable = (dataset_id, revision_id) in self._servable([dataset_id])
        except BaseException:
            self.forget(dataset_id, revision_id)
            raise
        if not servable:
            self.forget(dataset_id, revision_id)
        return servable

    def forget(self, dataset_id: uuid.UUID, revision_id: uuid.UUID | None = None) -> None:
        folder = self.root / str(dataset_id)
        shutil.rmtree(folder / str(revision_id) if revision_id is not None else folder, ignore_errors=True)

    def sweep(self) -> int:
        """Remove what anonymous callers may no longer read; the number of folders removed."""
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return 0
        datasets = {}
        for entry in entries:
            try:
                datasets[uuid.UUID(entry.name)] = entry
            except ValueError:  # a stray name: keep only what this module writes
                shutil.rmtree(entry.path, ignore_errors=True)
        if not datasets:
            return 0
        allowed = self._servable(datasets)
        removed = 0
        for dataset_id, entry in datasets.items():
            for revision in os.scandir(entry.path):
                try:
                    keep = (dataset_id, uuid.UUID(revision.name)) in allowed
                except ValueError:
                    keep = False
                if not keep:
                    shutil.rmtree(revision.path, ignore_errors=True)
                    removed += 1
        return removed

    def start_if_present(self) -> None:
        """Start sweeping now if a tree was left by an earlier run (nginx may be sending from it)."""
        if self.root.is_dir():
            self._start_sweeper(first_wait_s=0.0)

    def _start_sweeper(self, first_wait_s: float | None = None) -> None:
        if self._sweeper is not None:
            return
        with self._guard:
            if self._sweeper is None:
                wait = self._sweep_every_s if first_wait_s is None else first_wait_s
                self._sweeper = threading.Thread(
                    target=self._sweep_forever, args=(wait,), name="public-tree-sweeper", daemon=True
                )
                self._sweeper.start()

    def _sweep_forever(self, first_wait_s: float) -> None:
        time.sleep(first_wait_s)
        while True:
            try:
                self.sweep()
            except Exception:  # the database away for a moment: try again next time
                log.warning("sweeping the public tile tree failed", exc_info=True)
            time.sleep(self._sweep_every_s)

"""A content-addressed on-disk cache of tile contents: one file per SHA-256, filled from PostGIS.

Files live at ``<root>/<sha[:2]>/<sha[2:4]>/<sha>`` and hold exactly the bytes whose SHA-256 is their
name, so any process (several server processes, nginx in front) can read them without locks. A fill
writes to a temporary file in the same folder, checks the digest and size, then renames it into
place: concurrent fills of the same content (threads or processes) each write their own temporary
file and the last rename wins with identical bytes; a reader never sees a partial file. PostGIS stays
the source of truth: deleting the folder (or any file in it) loses nothing, the next read fills it
again.

Bytes arrive in chunks (an iterator), so filling a content of any size needs memory for one chunk.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

SHA256 = re.compile(r"[0-9a-f]{64}")


class CorruptContent(Exception):
    """The bytes read did not have the expected SHA-256 or size (nothing was stored)."""


class ContentCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def relative(self, sha256: str) -> str:
        """The file's path below the root, with forward slashes (for nginx's internal location)."""
        if not SHA256.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path(self, sha256: str) -> Path:
        return self.root / self.relative(sha256)

    def has(self, sha256: str, size: int) -> bool:
        """Whether the content's file is in place (and of the right size)."""
        try:
            return os.stat(self.path(sha256)).st_size == size
        except OSError:
            return False

    def discard(self, sha256: str) -> None:
        """Remove a content's file (a withdrawn revision's): the next read that is allowed fills it again."""
        self.path(sha256).unlink(missing_ok=True)

    def _lock(self, sha256: str) -> threading.Lock:
        with self._locks_guard:
            lock = self._locks.get(sha256)
            if lock is None:
                if len(self._locks) > 4096:  # forget idle locks now and then
                    self._locks = {k: v for k, v in self._locks.items() if v.locked()}
                lock = self._locks[sha256] = threading.Lock()
            return lock

    def ensure(self, sha256: str, size: int, read_chunks: Callable[[], Iterable[bytes]]) -> Path:
        """The content's file, written from ``read_chunks()`` first if it is missing.

        Within a process one thread fills a given content while others wait for it (so N parallel
        first reads of a huge content read it from the database once); across processes the rename
        makes concurrent fills safe."""
        target = self.path(sha256)
        if self.has(sha256, size):
            return target
        with self._lock(sha256):
            if not self.has(sha256, size):
                self._write(target, sha256, size, read_chunks())
        return target

    @staticmethod
    def _write(target: Path, sha256: str, size: int, chunks: Iterable[bytes]) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, written = hashlib.sha256(), 0
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".fill-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in chunks:
                    digest.update(chunk)
                    handle.write(chunk)
                    written += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())  # a crash never leaves a renamed file with missing bytes
            if written != size or digest.hexdigest() != sha256:
                raise CorruptContent(f"content {sha256}: read {written} bytes with another digest")
            os.chmod(temporary, 0o644)  # nginx's worker user reads it
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

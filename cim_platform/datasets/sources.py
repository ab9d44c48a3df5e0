"""Original uploads: written to disk while hashed, size-limited, kept unchanged forever."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from cim_platform.core.errors import InsufficientStorage, InvalidInput, PayloadTooLarge
from cim_platform.core.settings import Settings

SAFE_NAME = re.compile(r"[^\w.\-+ ()\[\]]+", re.UNICODE)


NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
MAX_NAME_BYTES = 200  # file systems allow 255 bytes; UTF-8 Chinese takes 3 a character


def safe_filename(name: str) -> str:
    """The last path component of a client-given name, without characters that could escape a folder,
    at most MAX_NAME_BYTES of UTF-8 with its extension kept."""
    if "\x00" in name:
        raise InvalidInput("the file name contains a NUL character")
    base = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    base = SAFE_NAME.sub("_", base).lstrip(".")
    if not base:
        raise InvalidInput("the uploaded file needs a file name")
    stem, dot, extension = base.rpartition(".")
    if not dot or len(extension.encode()) > 20:
        stem, dot, extension = base, "", ""
    budget = MAX_NAME_BYTES - len((dot + extension).encode())
    stem = stem.encode()[:budget].decode("utf-8", "ignore")
    return stem + dot + extension


@dataclass
class IncomingFile:
    """A file being received: write chunks, then ``finish`` it."""

    path: Path
    filename: str
    limit: int
    size: int = 0

    def __post_init__(self) -> None:
        self._hash = hashlib.sha256()
        self._handle = open(self.path, "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            self.discard()
            raise PayloadTooLarge(f"the upload exceeds the limit of {self.limit} bytes")
        self._hash.update(chunk)
        try:
            self._handle.write(chunk)
        except OSError as exc:
            self.discard()
            raise _storage_error(exc) from exc

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def finish(self) -> None:
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
        except OSError as exc:
            self.discard()
            raise _storage_error(exc) from exc
        if self.size == 0:
            self.discard()
            raise InvalidInput(f"{self.filename} is empty")

    def discard(self) -> None:
        """Remove the file, wherever it is now (also once kept as a source whose revision was not stored)."""
        if not self._handle.closed:
            try:
                self._handle.close()  # flushes what is buffered: fails again on a full disk
            except OSError:
                pass
        self.path.unlink(missing_ok=True)
        if self.path.parent.parent.name == "sources":
            shutil.rmtree(self.path.parent, ignore_errors=True)


def _storage_error(exc: OSError) -> Exception:
    """A full disk (or quota) becomes InsufficientStorage; other I/O errors stay what they are."""
    if exc.errno in NO_SPACE:
        return InsufficientStorage(
            "the server has no room left to store the upload; nothing was kept: try again later or ask an administrator"
        )
    return exc


def begin_upload(settings: Settings, filename: str) -> IncomingFile:
    name = safe_filename(filename)
    incoming = settings.uploads_dir / "incoming"
    try:
        incoming.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=incoming, prefix="upload-")
        os.close(handle)
    except OSError as exc:
        raise _storage_error(exc) from exc
    return IncomingFile(Path(temp), name, settings.max_upload_bytes)


def keep_source(settings: Settings, incoming: IncomingFile, revision_id: uuid.UUID) -> str:
    """Move a finished upload to its permanent place; the path relative to the data folder."""
    folder = settings.uploads_dir / "sources" / str(revision_id)
    target = folder / incoming.filename
    try:
        for private in (settings.uploads_dir, folder.parent, folder):  # the platform's user only
            private.mkdir(parents=True, exist_ok=True)
            private.chmod(0o700)
        shutil.move(incoming.path, target)  # a rename on one file system; a copy (that can fill a disk) across two
    except OSError as exc:
        target.unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        raise _storage_error(exc) from exc
    incoming.path = target
    target.chmod(0o400)  # the archive copy is never written again, and read by the platform's user only
    return str(target.relative_to(settings.resolved_data_dir))


def source_path(settings: Settings, relative: str) -> Path:
    return settings.resolved_data_dir / relative

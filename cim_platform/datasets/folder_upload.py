"""A folder uploaded as its files (e.g. a raw 3D Tiles tileset: ``tileset.json`` with its contents) →
one uncompressed zip, the same input a zipped upload gives, so detection, checks, storage and the job
are shared with zip uploads.

The files come as several multipart parts whose file names carry the paths relative to the chosen
folder: what browsers send for ``<input type=file webkitdirectory>`` (``webkitRelativePath``) and what
``curl -F 'files=@tiles/a.b3dm;filename=tiles/a.b3dm'`` sends. Each part is streamed into the zip as
it arrives (never whole in memory, never twice on disk). Refused with a 4xx, nothing kept: absolute
paths, ``..`` components, drive letters, NUL or control characters, a path given twice, more files than
a zip upload may hold (:data:`converters.archive.MAX_MEMBERS`) and more bytes than an upload
(``CIM_MAX_UPLOAD_BYTES``). Parts cannot be links, so no link reaches the zip.
"""

from __future__ import annotations

import re
import time
import unicodedata
import zipfile
from pathlib import PurePosixPath
from typing import IO

from cim_platform.core.errors import InvalidInput
from cim_platform.core.settings import Settings
from cim_platform.datasets.sources import IncomingFile, begin_upload, safe_filename
from converters.archive import MAX_MEMBERS

MAX_FILES = MAX_MEMBERS
MAX_PATH_CHARS = 1000
MAX_COMPONENT_BYTES = 255
DRIVE = re.compile(r"^[A-Za-z]:")
FILE_MODE = 0o100644  # a regular file, readable: what the zip checks expect of a member


def relative_path(raw: str) -> str:
    """A client-given relative path checked and normalised (``\\`` as ``/``, no ``.`` or empty parts)."""
    text = raw.replace("\\", "/")
    if not text.strip():
        raise InvalidInput("a file of the folder has no name; send each file with its path relative to the folder")
    if len(text) > MAX_PATH_CHARS:
        raise InvalidInput(f"the path {text[:80]!r}… is longer than {MAX_PATH_CHARS} characters")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise InvalidInput(f"the path {text[:200]!r} contains control characters; rename the file")
    if text.startswith("/") or DRIVE.match(text):
        raise InvalidInput(f"{text[:200]!r} is an absolute path; send paths relative to the chosen folder")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise InvalidInput(f"{text[:200]!r} leaves the folder ('..'); send paths inside the chosen folder only")
    if not parts:
        raise InvalidInput(f"{text[:200]!r} is not a file path; send each file with its path in the folder")
    if any(len(p.encode()) > MAX_COMPONENT_BYTES for p in parts):
        raise InvalidInput(f"a part of {text[:200]!r} is longer than {MAX_COMPONENT_BYTES} bytes; rename it")
    return "/".join(parts)


class _Sink:
    """The zip's output: bytes go to the upload file (hashed, size-limited) as they are written."""

    def __init__(self, incoming: IncomingFile) -> None:
        self.incoming = incoming
        self.discarded = False  # the upload was refused: later writes (a dropped zip's cleanup) go nowhere

    def write(self, data: bytes, /) -> int:
        if not self.discarded:
            self.incoming.write(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass  # the upload file is finished (fsync) or discarded by FolderUpload


class FolderUpload:
    """Receives a folder's files one by one: ``begin(path)``, ``write(chunk)``…, ``end()``; then
    ``finish()`` gives the zip as a finished upload, or ``discard()`` removes everything."""

    def __init__(self, settings: Settings, max_files: int | None = None) -> None:
        self.settings = settings
        self.max_files = MAX_FILES if max_files is None else max_files
        self.paths: list[str] = []
        self._lower: set[str] = set()
        self.incoming: IncomingFile | None = None
        self._zip: zipfile.ZipFile | None = None
        self._sink: _Sink | None = None
        self._member: IO[bytes] | None = None

    def begin(self, raw_path: str) -> None:
        path = relative_path(raw_path)
        if path.lower() in self._lower:
            raise InvalidInput(f"{path!r} is sent twice; send each file of the folder once")
        if len(self.paths) >= self.max_files:
            raise InvalidInput(
                f"the folder has more than {self.max_files} files; upload a smaller tileset or split it"
            )
        if self._zip is None:
            self.incoming = begin_upload(self.settings, "folder.zip")
            self._sink = _Sink(self.incoming)
            self._zip = zipfile.ZipFile(self._sink, "w", zipfile.ZIP_STORED, allowZip64=True)
        info = zipfile.ZipInfo(path, date_time=time.localtime()[:6])
        info.external_attr = FILE_MODE << 16
        info.create_system = 3
        self.paths.append(path)
        self._lower.add(path.lower())
        self._member = self._zip.open(info, "w", force_zip64=True)

    def write(self, chunk: bytes) -> None:
        assert self._member is not None
        self._member.write(chunk)

    def end(self) -> None:
        if self._member is not None:
            self._member.close()
            self._member = None

    @property
    def started(self) -> bool:
        return bool(self.paths)

    def folder_name(self) -> str:
        """The chosen folder's name (the first part shared by every path), else ``tileset``."""
        tops = {PurePosixPath(p).parts[0] for p in self.paths}
        if len(tops) == 1 and all(len(PurePosixPath(p).parts) > 1 for p in self.paths):
            return tops.pop()
        return "tileset"

    def finish(self) -> IncomingFile:
        """Close the zip and the upload file (fsync); the upload is named after the folder (``.zip``)."""
        if self._zip is None or self.incoming is None:
            raise InvalidInput("the upload has no files; choose a folder holding the files")
        try:
            self.end()
            self._zip.close()
        except BaseException:
            self.discard()
            raise
        self.incoming.filename = safe_filename(f"{self.folder_name()}.zip")
        self.incoming.finish()
        return self.incoming

    def discard(self) -> None:
        """Remove what was received (safe to call at any point, and twice)."""
        if self._sink is not None:
            self._sink.discarded = True
        self._member = None
        self._zip = None
        if self.incoming is not None:
            self.incoming.discard()

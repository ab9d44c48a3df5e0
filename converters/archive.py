"""Unpacking uploaded zip archives safely (tilesets, OSGB deliveries); stdlib only, so that sniffing
a zip (:mod:`converters.sniff`) imports no converter.

Refused before a byte is written: unreadable archives, too many members, absolute paths, ``..``
components, drive letters, symbolic links, duplicate names, a total size above the limit and members
whose compression ratio suggests a zip bomb. While writing, a member that inflates beyond its
declared size (a lying header) stops the extraction.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from converters.errors import ConversionError

MAX_MEMBERS = 200_000
MAX_UNCOMPRESSED_BYTES = 16 * 1024**3
MAX_COMPRESSION_RATIO = 200.0
RATIO_CHECK_MIN_BYTES = 1024**2
_DRIVE = re.compile(r"^[A-Za-z]:")


def member_names(archive: Path) -> list[str]:
    """The archive's file names (no directories); [] when it is not a readable zip."""
    try:
        with zipfile.ZipFile(archive) as zf:
            return [m.filename for m in zf.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


def _safe_name(archive: Path, member: zipfile.ZipInfo) -> PurePosixPath:
    raw = member.filename
    name = PurePosixPath(raw.replace("\\", "/"))
    if "\x00" in raw or name.is_absolute() or ".." in name.parts or _DRIVE.match(raw) or not name.parts:
        raise ConversionError(f"{archive.name}: unsafe path {raw!r} in the archive; nothing was extracted")
    mode = member.external_attr >> 16
    if member.create_system == 3 and stat.S_ISLNK(mode):  # made on Unix: the mode bits are meaningful
        raise ConversionError(
            f"{archive.name}: {raw!r} is a symbolic link; archives with links are refused (zip the files themselves)"
        )
    return name


def _checked_members(archive: Path, zf: zipfile.ZipFile, max_members: int, max_bytes: int) -> list[zipfile.ZipInfo]:
    members = [m for m in zf.infolist() if not m.is_dir()]
    if not members:
        raise ConversionError(f"{archive.name}: the archive is empty")
    if len(members) > max_members:
        raise ConversionError(f"{archive.name}: {len(members)} files in the archive (at most {max_members})")
    names: dict[str, zipfile.ZipInfo] = {}
    for member in members:
        name = _safe_name(archive, member).as_posix()
        if name.lower() in names:
            raise ConversionError(f"{archive.name}: {member.filename!r} appears twice in the archive")
        names[name.lower()] = member
    total = sum(m.file_size for m in members)
    if total > max_bytes:
        raise ConversionError(f"{archive.name}: unpacks to {total} bytes (limit {max_bytes}); nothing was extracted")
    for member in members:
        if (member.file_size > RATIO_CHECK_MIN_BYTES
                and member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)):
            raise ConversionError(
                f"{archive.name}: the compression ratio of {member.filename!r} suggests a zip bomb; refused"
            )
    return members


def _open(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ConversionError(f"{archive.name}: not a readable zip archive") from error


def inspect_zip(archive: Path, max_members: int = MAX_MEMBERS, max_bytes: int = MAX_UNCOMPRESSED_BYTES) -> list[str]:
    """The member names after every check :func:`extract_zip` makes before writing (no extraction)."""
    with _open(archive) as zf:
        return [m.filename for m in _checked_members(archive, zf, max_members, max_bytes)]


def extract_zip(
    archive: Path,
    target: Path,
    max_members: int = MAX_MEMBERS,
    max_bytes: int = MAX_UNCOMPRESSED_BYTES,
) -> list[str]:
    """Check every member, then extract all files under ``target``; returns their relative paths."""
    with _open(archive) as zf:
        members = _checked_members(archive, zf, max_members, max_bytes)
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        written: list[str] = []
        for member in members:
            relative = _safe_name(archive, member)
            path = (root / relative).resolve()
            if not path.is_relative_to(root):
                raise ConversionError(f"{archive.name}: unsafe path {member.filename!r} in the archive")
            path.parent.mkdir(parents=True, exist_ok=True)
            _extract_member(archive, zf, member, path)
            written.append(relative.as_posix())
        return written


def _extract_member(archive: Path, zf: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path) -> None:
    size = 0
    try:
        with zf.open(member) as source, path.open("wb") as sink:
            while chunk := source.read(1 << 20):
                size += len(chunk)
                if size > member.file_size:  # a lying header: stop before the disk fills
                    raise ConversionError(f"{archive.name}: {member.filename!r} is larger than declared; refused")
                sink.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        path.unlink(missing_ok=True)
        raise ConversionError(
            f"{archive.name}: {member.filename!r} is damaged in the archive ({error}); zip the files again"
        ) from error
    except RuntimeError as error:  # encrypted members
        raise ConversionError(f"{archive.name}: {member.filename!r} cannot be read ({error})") from error


def cleanup(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)

"""Which files a tileset references, and whether the upload holds them (checked at upload, before storing).

Reads only JSON and subtree files: the entry ``tileset.json``, external tilesets and implicit tiling's
subtrees (expanded as the converter does, so every available content is checked). Content files are
looked up by name, not read. Missing files are named in the refusal, at most :data:`NAMES_SHOWN`.
"""

from __future__ import annotations

import json
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from converters.errors import ConversionError
from converters.tilesets import implicit
from converters.tilesets.checks import check_tileset

NAMES_SHOWN = 10
MAX_JSON_BYTES = 512 * 1024**2
MAX_TILESET_FILES = 10_000


def resolve(base: PurePosixPath, uri: str) -> PurePosixPath:
    """The path of ``uri`` (relative to the folder ``base``) among the tileset's files; refuses URLs and
    paths leaving the tileset's folder."""
    if "://" in uri or uri.startswith("data:"):
        raise ConversionError(f"content {uri[:80]!r} is not a file of the upload (URLs are not followed)")
    clean = urllib.parse.unquote(uri.split("?")[0].split("#")[0])
    parts: list[str] = []
    for part in (base / clean).parts:
        if part == "..":
            if not parts:
                raise ConversionError(f"content {uri!r} points outside the uploaded tileset")
            parts.pop()
        elif part not in (".", "", "/"):
            parts.append(part)
    return PurePosixPath(*parts)


def _contents(tile: dict[str, Any]) -> list[Any]:
    return ([tile["content"]] if "content" in tile else []) + list(tile.get("contents", []))


def _tiles(root: Any, base: PurePosixPath, read: Callable[[PurePosixPath], bytes]) -> Iterator[dict[str, Any]]:
    """Every tile of one tileset document, implicit roots expanded (their subtrees read)."""
    stack = [root]
    while stack:
        tile = stack.pop()
        if not isinstance(tile, dict):
            continue
        spec = tile.get("implicitTiling") or tile.get("extensions", {}).get("3DTILES_implicit_tiling")
        if spec is not None:
            try:
                tile = implicit.expand({**tile, "implicitTiling": spec}, lambda uri: read(resolve(base, uri)))
            except (KeyError, TypeError, ValueError) as error:
                raise ConversionError(f"{base / 'tileset.json'}: unreadable implicit tiling ({error})") from None
        yield tile
        children = tile.get("children", [])
        stack.extend(children if isinstance(children, list) else [])


def missing_files(entry: str, present: set[str], read: Callable[[PurePosixPath], bytes]) -> list[str]:
    """The files referenced from ``entry`` (and its external tilesets) that are not in ``present``;
    raises ConversionError for a tileset JSON that is not valid."""
    missing: list[str] = []
    queue, seen = [PurePosixPath(entry)], {entry}
    while queue:
        path = queue.pop()
        try:
            document = json.loads(read(path))
        except (ValueError, UnicodeDecodeError) as error:
            raise ConversionError(f"{path}: not valid JSON ({error})") from None
        check_tileset(document, str(path))
        for tile in _tiles(document["root"], path.parent, read):
            for content in _contents(tile):
                target = resolve(path.parent, str(content.get("uri", content.get("url"))))
                name = target.as_posix()
                if name not in present:
                    missing.append(name)
                elif target.suffix.lower() == ".json" and name not in seen:
                    seen.add(name)
                    if len(seen) > MAX_TILESET_FILES:
                        raise ConversionError(f"more than {MAX_TILESET_FILES} external tilesets")
                    queue.append(target)
    return sorted(set(missing))


def check_archive(archive: Path, names: list[str], entry: str) -> None:
    """Refuse an uploaded tileset (zip, or a folder's files assembled into one) whose JSON is invalid or
    that lacks referenced files, naming them."""
    by_name = {PurePosixPath(n.replace("\\", "/")).as_posix(): n for n in names}
    with zipfile.ZipFile(archive) as zf:

        def read(path: PurePosixPath) -> bytes:
            member = by_name.get(path.as_posix())
            if member is None:
                raise ConversionError(
                    f"{path}: referenced by the tileset but missing from the upload; add it and upload again"
                )
            if zf.getinfo(member).file_size > MAX_JSON_BYTES:
                raise ConversionError(f"{path}: larger than {MAX_JSON_BYTES} bytes; not a tileset or subtree file")
            try:
                return zf.read(member)
            except (zipfile.BadZipFile, OSError, ValueError) as error:
                raise ConversionError(f"{path}: damaged in the upload ({error}); send it again") from None

        missing = missing_files(entry, set(by_name), read)
    if missing:
        shown = ", ".join(missing[:NAMES_SHOWN]) + (f" and {len(missing) - NAMES_SHOWN} more"
                                                     if len(missing) > NAMES_SHOWN else "")
        raise ConversionError(
            f"{archive.name}: {len(missing)} file(s) referenced by {entry} are missing from the upload: {shown}; "
            "upload the whole tileset folder (the one holding tileset.json, with its sub-folders) or zip it"
        )

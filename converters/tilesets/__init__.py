"""Existing 3D Tiles tilesets (zip) → checked 3D Tiles 1.1 (issue 14). ``sniff(path)``: a zip holding a
``tileset.json``; ``convert(input, out_dir, options) -> report`` (see :mod:`converters.tilesets.convert`)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from converters.tilesets.archive import member_names
from converters.tilesets.convert import convert


def sniff(path: Path) -> bool:
    return any(PurePosixPath(name).name == "tileset.json" for name in member_names(Path(path)))


__all__ = ["convert", "sniff"]

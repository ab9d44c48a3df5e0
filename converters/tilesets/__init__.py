"""Existing 3D Tiles tilesets (zip) → checked 3D Tiles 1.1 (issue 14). ``sniff(path)``: a zip holding a
``tileset.json``; ``convert(input, out_dir, options) -> report`` (see :mod:`converters.tilesets.convert`)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from converters.tilesets.archive import inspect_zip, member_names
from converters.tilesets.convert import convert


def sniff(path: Path) -> bool:
    """A zip holding a ``tileset.json``; a hostile archive (unsafe paths, links, a zip bomb) is refused
    here already (ConversionError), before it is stored."""
    if not any(PurePosixPath(name).name == "tileset.json" for name in member_names(Path(path))):
        return False
    inspect_zip(Path(path))
    return True


__all__ = ["convert", "sniff"]

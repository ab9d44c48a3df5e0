"""Existing 3D Tiles tilesets (zip) → checked 3D Tiles 1.1 (issue 14). ``sniff(path)``: a zip holding a
``tileset.json``; ``convert(input, out_dir, options) -> report`` (see :mod:`converters.tilesets.convert`)."""

from __future__ import annotations

from converters.sniff import tileset as sniff
from converters.tilesets.convert import convert

__all__ = ["convert", "sniff"]

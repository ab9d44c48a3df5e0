"""Existing 3D Tiles tilesets (a zip, or a folder's files assembled into one at upload) → checked 3D Tiles
1.1 (issue 14). ``sniff(path)``: a zip holding a ``tileset.json``; ``check_input(path, options)``: the
upload-time checks; ``convert(input, out_dir, options) -> report`` (see :mod:`converters.tilesets.convert`)."""

from __future__ import annotations

from pathlib import Path

from converters.archive import inspect_zip
from converters.options import ConvertOptions
from converters.sniff import tileset as sniff
from converters.tilesets.convert import convert, find_entry
from converters.tilesets.references import check_archive


def check_input(path: Path, options: ConvertOptions) -> None:
    """Refuse at upload a hostile archive, no or several top ``tileset.json``, an invalid tileset JSON
    and referenced files missing from the upload (named)."""
    names = inspect_zip(Path(path))
    check_archive(Path(path), names, find_entry(names, Path(path).name))


__all__ = ["check_input", "convert", "sniff"]

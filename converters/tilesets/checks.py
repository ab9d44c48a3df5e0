"""Structural checks of an uploaded tileset JSON (the converter's own, before any content is read)."""

from __future__ import annotations

import math
from typing import Any

from converters.errors import ConversionError

VERSIONS = ("0.0", "1.0", "1.1")
VOLUME_SIZES = {"box": 12, "region": 6, "sphere": 4}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_volume(volume: Any, where: str) -> None:
    if not isinstance(volume, dict):
        raise ConversionError(f"{where}: boundingVolume missing or not an object")
    kinds = [k for k in VOLUME_SIZES if k in volume]
    if not kinds:
        raise ConversionError(f"{where}: boundingVolume has none of box, region, sphere")
    values = volume[kinds[0]]
    size = VOLUME_SIZES[kinds[0]]
    if not isinstance(values, list) or len(values) != size or not all(_number(v) for v in values):
        raise ConversionError(f"{where}: boundingVolume.{kinds[0]} needs {size} finite numbers")
    if kinds[0] == "region":
        w, s, e, n, lo, hi = values
        if not (-math.pi <= w <= math.pi and -math.pi <= e <= math.pi and -math.pi / 2 <= s <= n <= math.pi / 2):
            raise ConversionError(f"{where}: region {values} is not west, south, east, north in radians")
        if lo > hi:
            raise ConversionError(f"{where}: region minimum height above its maximum")
    if kinds[0] == "sphere" and values[3] < 0:
        raise ConversionError(f"{where}: sphere with a negative radius")


def check_tile(tile: Any, where: str, depth: int = 0) -> int:
    """Check one tile and its children; returns the number of tiles checked."""
    if depth > 256:
        raise ConversionError(f"{where}: the tile tree is deeper than 256 levels")
    if not isinstance(tile, dict):
        raise ConversionError(f"{where}: a tile must be an object")
    check_volume(tile.get("boundingVolume"), where)
    if not _number(tile.get("geometricError")) or tile["geometricError"] < 0:
        raise ConversionError(f"{where}: geometricError missing or negative")
    refine = tile.get("refine")
    if refine is not None and str(refine).upper() not in ("ADD", "REPLACE"):
        raise ConversionError(f"{where}: refine must be ADD or REPLACE, got {refine!r}")
    transform = tile.get("transform")
    if transform is not None:
        if not isinstance(transform, list) or len(transform) != 16 or not all(_number(v) for v in transform):
            raise ConversionError(f"{where}: transform needs 16 finite numbers (column-major)")
        if any(abs(transform[i] - expected) > 1e-9 for i, expected in ((3, 0), (7, 0), (11, 0), (15, 1))):
            raise ConversionError(f"{where}: transform is not an affine column-major matrix")
    contents = ([tile["content"]] if "content" in tile else []) + list(tile.get("contents", []))
    for index, content in enumerate(contents):
        if not isinstance(content, dict) or not isinstance(content.get("uri", content.get("url")), str):
            raise ConversionError(f"{where}: content {index} has no uri")
        if "boundingVolume" in content:
            check_volume(content["boundingVolume"], f"{where}/content")
    children = tile.get("children", [])
    if not isinstance(children, list):
        raise ConversionError(f"{where}: children must be a list")
    return 1 + sum(check_tile(c, f"{where}/children/{i}", depth + 1) for i, c in enumerate(children))


def check_tileset(tileset: Any, name: str) -> str:
    """Check the tileset's required structure; returns its 3D Tiles version."""
    if not isinstance(tileset, dict):
        raise ConversionError(f"{name}: not a JSON object")
    asset = tileset.get("asset")
    version = asset.get("version") if isinstance(asset, dict) else None
    if version not in VERSIONS:
        raise ConversionError(f"{name}: asset.version must be one of {', '.join(VERSIONS)}, got {version!r}")
    if not _number(tileset.get("geometricError")):
        raise ConversionError(f"{name}: the tileset has no geometricError")
    if "root" not in tileset:
        raise ConversionError(f"{name}: the tileset has no root tile")
    check_tile(tileset["root"], f"{name}: /root")
    return str(version)

"""Imagery tiles cut on demand from a revision's COG with rio-tiler: web mercator (``WebMercatorQuad``)
or geographic (``WorldCRS84Quad``, Cesium's GeographicTilingScheme), PNG with transparency outside
the orthophoto, or None when the tile lies outside it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import morecantile
from rio_tiler.errors import TileOutsideBounds
from rio_tiler.io import Reader

TILING_SCHEMES = {"webmercator": "WebMercatorQuad", "geographic": "WorldCRS84Quad"}
TILE_SIZE = 256
MAX_ZOOM = 22


@cache
def tile_matrix_set(scheme: str) -> morecantile.TileMatrixSet:
    return morecantile.tms.get(TILING_SCHEMES[scheme])


def render_tile(cog: Path, scheme: str, z: int, x: int, y: int) -> bytes | None:
    """The tile as PNG bytes (RGBA where the orthophoto has no data), or None outside the orthophoto."""
    tms = tile_matrix_set(scheme)
    with Reader(str(cog), tms=tms) as reader:
        if not reader.tile_exists(x, y, z):
            return None
        try:
            image = reader.tile(x, y, z, tilesize=TILE_SIZE)
        except TileOutsideBounds:
            return None
    return bytes(image.render(img_format="PNG"))

"""Cesium's geographic tiling scheme for quantized-mesh terrain (EPSG:4326, TMS rows from the south):
level 0 is two tiles of 180° × 180°, each level halves them. Each tile is sampled on a grid of
``GRID + 1`` points whose outer rows and columns lie on the tile's edges, shared with its neighbours."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

GRID = 256  # intervals per tile side: 257 × 257 samples
MAX_LEVEL = 20
LEVEL0_ERROR_M = 6378137.0 * 2 * math.pi * 0.25 / (65 * 2)
"""Cesium's estimate of a level-0 geographic terrain tile's geometric error (TerrainProvider)."""
MIN_ERROR_M = 0.25


def tile_degrees(level: int) -> float:
    return 180.0 / (1 << level)


FINEST_ERROR_M = 0.5


def level_error(level: int, finest: int) -> float:
    """The bound on the mesh error (metres) of one level's tiles: an eighth of Cesium's estimate of the
    level's geometric error, never finer than ``MIN_ERROR_M``; the DEM's finest level (the one matching its
    resolution, what a viewer shows close up) at most ``FINEST_ERROR_M``."""
    error = max(MIN_ERROR_M, LEVEL0_ERROR_M / (1 << level) / 8)
    return min(error, FINEST_ERROR_M) if level == finest else error


def max_level_for(resolution_deg: float) -> int:
    """The level whose sample spacing is nearest the DEM's resolution (degrees of longitude)."""
    level = round(math.log2(180.0 / (GRID * resolution_deg)))
    return max(0, min(MAX_LEVEL, level))


@dataclass(frozen=True, slots=True)
class TileKey:
    level: int
    x: int
    y: int  # TMS: 0 at the south

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        size = tile_degrees(self.level)
        west, south = -180.0 + self.x * size, -90.0 + self.y * size
        return west, south, west + size, south + size

    @property
    def path(self) -> str:
        return f"{self.level}/{self.x}/{self.y}.terrain"


@dataclass(frozen=True, slots=True)
class TileRange:
    level: int
    start_x: int
    start_y: int
    end_x: int
    end_y: int

    def __iter__(self) -> Iterator[TileKey]:
        for x in range(self.start_x, self.end_x + 1):
            for y in range(self.start_y, self.end_y + 1):
                yield TileKey(self.level, x, y)

    def __len__(self) -> int:
        return (self.end_x - self.start_x + 1) * (self.end_y - self.start_y + 1)

    def as_layer(self) -> dict[str, int]:
        return {"startX": self.start_x, "startY": self.start_y, "endX": self.end_x, "endY": self.end_y}


def tiles_covering(level: int, bounds: tuple[float, float, float, float]) -> TileRange:
    """The tiles of ``level`` that intersect ``bounds`` (west, south, east, north degrees); at level 0
    both tiles, so Cesium always finds its two roots."""
    if level == 0:
        return TileRange(0, 0, 0, 1, 0)
    size = tile_degrees(level)
    west, south, east, north = bounds
    columns, rows = (1 << (level + 1)) - 1, (1 << level) - 1
    start_x = min(columns, max(0, math.floor((west + 180.0) / size)))
    end_x = min(columns, max(0, math.ceil((east + 180.0) / size) - 1))
    start_y = min(rows, max(0, math.floor((south + 90.0) / size)))
    end_y = min(rows, max(0, math.ceil((north + 90.0) / size) - 1))
    return TileRange(level, start_x, start_y, max(start_x, end_x), max(start_y, end_y))

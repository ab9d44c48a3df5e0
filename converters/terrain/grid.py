"""The DEM resampled once onto the finest level's sample grid in EPSG:4326 (a temporary tiled
GeoTIFF with averaged overviews), from which every tile of every level reads its (GRID + 1)² samples
in one windowed read: GDAL picks the overview that fits the level, memory stays bounded.

Heights leave here ellipsoidal (WGS84): orthometric DEM heights (a 2D CRS, or a vertical CRS such as
Yellow Sea 1985) get the geoid undulation of :mod:`converters.georef` (the city grid for EPSG:5737, else
EGM96), sampled on a coarse grid per tile and interpolated (the geoid varies over kilometres).
Nodata: holes are interpolated linearly along rows (then columns), and the part of a tile outside the
DEM takes the DEM's edge heights."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS
from rasterio.crs import CRS as RasterioCRS
from rasterio.enums import Resampling
from rasterio.io import DatasetReader
from rasterio.warp import reproject
from rasterio.windows import Window

from converters.georef import LocalFrame, MapToLocal, geoid_undulation
from converters.terrain.tiling import GRID, TileKey, tile_degrees

GEOID_SAMPLES = 17  # per tile side


@dataclass
class HeightGrid:
    path: Path
    level: int  # the finest level: one grid sample per tile sample
    resolution: float  # degrees
    column0: int  # global sample index of the grid's first column (lon = -180 + i · resolution)
    row_top: int  # global sample index of its first row (lat = -90 + j · resolution)
    width: int
    height: int
    to_map: MapToLocal  # heights: unit, orthometric or not, which geoid
    fallback_height: float  # for a tile the DEM does not reach at all

    def sample(self, dataset: DatasetReader, key: TileKey) -> NDArray[np.float32]:
        """The tile's (GRID + 1)² heights in the DEM's units, NaN where the DEM has none."""
        out = np.full((GRID + 1, GRID + 1), np.nan, dtype=np.float32)
        scale = 1 << (self.level - key.level)
        west, _south, _, north = key.bounds
        first_col = round((west + 180.0) / self.resolution) - self.column0  # grid column of the tile's west edge
        first_row = self.row_top - round((north + 90.0) / self.resolution)
        # output sample k covers grid columns [first_col + (k - 1/2)·scale, first_col + (k + 1/2)·scale)
        k0 = max(0, math.ceil((0 - first_col) / scale))
        k1 = min(GRID, math.floor((self.width - 1 - first_col) / scale))
        r0 = max(0, math.ceil((0 - first_row) / scale))
        r1 = min(GRID, math.floor((self.height - 1 - first_row) / scale))
        if k1 < k0 or r1 < r0:
            return out
        col_off = max(0.0, first_col + (k0 - 0.5) * scale + 0.5)
        col_end = min(float(self.width), first_col + (k1 + 0.5) * scale + 0.5)
        row_off = max(0.0, first_row + (r0 - 0.5) * scale + 0.5)
        row_end = min(float(self.height), first_row + (r1 + 0.5) * scale + 0.5)
        window = Window(col_off, row_off, col_end - col_off, row_end - row_off)
        part = dataset.read(
            1, window=window, out_shape=(r1 - r0 + 1, k1 - k0 + 1), resampling=Resampling.bilinear, masked=False
        )
        out[r0 : r1 + 1, k0 : k1 + 1] = part
        return out

    def to_ellipsoidal(self, key: TileKey, heights: NDArray[np.float32]) -> NDArray[np.float32]:
        """Nodata filled with the nearest valid height, units to metres, orthometric → ellipsoidal."""
        valid = np.isfinite(heights)
        if not valid.any():
            filled = np.full_like(heights, self.fallback_height)
        elif not valid.all():
            filled = _fill_lines(_fill_lines(heights).T).T  # along rows, then columns for rows without data
        else:
            filled = heights
        metres = filled.astype(np.float64) * self.to_map.vertical_unit
        if self.to_map.height_mode == "orthometric":
            metres += self._geoid(key)
        return metres.astype(np.float32)

    def _geoid(self, key: TileKey) -> NDArray[np.float64]:
        west, south, east, north = key.bounds
        lons = np.linspace(west, east, GEOID_SAMPLES)
        lats = np.linspace(north, south, GEOID_SAMPLES)
        grid_lon, grid_lat = np.meshgrid(lons, lats)
        n = geoid_undulation(grid_lon.ravel(), np.clip(grid_lat.ravel(), -89.99, 89.99), self.to_map.geoid)
        coarse = n.reshape(GEOID_SAMPLES, GEOID_SAMPLES)
        steps = np.linspace(0, GEOID_SAMPLES - 1, GRID + 1)
        knots = np.arange(GEOID_SAMPLES, dtype=np.float64)
        across = np.stack([np.interp(steps, knots, row) for row in coarse])  # (GEOID_SAMPLES, GRID + 1)
        return np.stack([np.interp(steps, knots, column) for column in across.T], axis=1)


def _fill_lines(heights: NDArray[np.float32]) -> NDArray[np.float32]:
    """Each row's missing heights interpolated linearly between its valid ones, its ends extended."""
    out = heights.copy()
    index = np.arange(heights.shape[1])
    for row, values in enumerate(heights):
        valid = np.isfinite(values)
        if valid.any() and not valid.all():
            out[row] = np.interp(index, index[valid], values[valid])
    return out


def build_grid(
    source: DatasetReader, crs: CRS, bounds: tuple[float, float, float, float], level: int, work: Path
) -> HeightGrid:
    """Warp the DEM onto ``level``'s sample grid over ``bounds`` (EPSG:4326) into ``work``."""
    west, south, east, north = bounds
    centre = ((west + east) / 2, (south + north) / 2)
    to_map = MapToLocal(crs, LocalFrame(centre[0], centre[1], 0.0))
    resolution = tile_degrees(level) / GRID
    column0 = math.floor((west + 180.0) / resolution)
    column1 = math.ceil((east + 180.0) / resolution)
    row_bottom = math.floor((south + 90.0) / resolution)
    row_top = math.ceil((north + 90.0) / resolution)
    width, height = column1 - column0 + 1, row_top - row_bottom + 1
    transform = Affine(
        resolution, 0.0, -180.0 + (column0 - 0.5) * resolution, 0.0, -resolution, -90.0 + (row_top + 0.5) * resolution
    )
    path = work / "heights-4326.tif"
    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": transform,
        "nodata": float("nan"),
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
        "BIGTIFF": "IF_SAFER",
    }
    source_crs = RasterioCRS.from_wkt(crs.to_wkt())
    with rasterio.open(path, "w", **profile) as grid:
        reproject(
            rasterio.band(source, 1),
            rasterio.band(grid, 1),
            src_crs=source_crs,
            src_nodata=source.nodata,
            dst_nodata=float("nan"),
            resampling=Resampling.bilinear,
            warp_mem_limit=256,
        )
        factors: list[int] = []
        size = max(width, height)
        while size > GRID:
            factors.append(1 << (len(factors) + 1))
            size //= 2
        if factors:
            grid.build_overviews(factors, Resampling.average)
    fallback = _mean_height(path)
    return HeightGrid(path, level, resolution, column0, row_top, width, height, to_map, fallback)


def _mean_height(path: Path) -> float:
    with rasterio.open(path) as grid:
        overview = grid.read(1, out_shape=(min(grid.height, 512), min(grid.width, 512)))
    valid = overview[np.isfinite(overview)]
    return float(valid.mean()) if valid.size else 0.0

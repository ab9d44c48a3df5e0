"""One terrain tile: a grid of ellipsoidal heights → a TIN with a bounded error (pydelatin) → a
quantized-mesh 1.0 tile with oct-encoded per-vertex normals (quantized-mesh-encoder's writers).

Vertices are quantized from their grid positions (``u = column · 32767 / GRID``), not from float32
longitudes, so edge vertices sit exactly on the tile's edges and neighbours' edges meet."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydelatin import Delatin
from quantized_mesh_encoder.encode import (
    compute_header,
    encode_header,
    write_edge_indices,
    write_indices,
    write_vertices,
)
from quantized_mesh_encoder.extensions import VertexNormalsExtension

from converters.terrain.tiling import GRID, TileKey

QUANTIZED_MAX = 32767


@dataclass(frozen=True, slots=True)
class EncodedTile:
    data: bytes
    vertices: int
    triangles: int
    min_height: float
    max_height: float


def _counter_clockwise(lonlat: NDArray[np.float64], triangles: NDArray[np.uint32]) -> NDArray[np.uint32]:
    """Triangles wound counter-clockwise seen from above (east = x, north = y), as the format asks."""
    a, b, c = (lonlat[triangles[:, i]] for i in range(3))
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    flipped = triangles.copy()
    clockwise = cross < 0
    flipped[clockwise, 1], flipped[clockwise, 2] = triangles[clockwise, 2], triangles[clockwise, 1]
    return flipped


def _in_first_use_order(
    vertices: NDArray[np.float64], triangles: NDArray[np.uint32]
) -> tuple[NDArray[np.float64], NDArray[np.uint32]]:
    """Vertices renumbered in the order the triangles first use them: high-water-mark encoding of the
    indices (the format's) needs each new vertex to be the next number."""
    used, first = np.unique(triangles.ravel(), return_index=True)
    order = used[np.argsort(first)]
    renumber = np.zeros(len(vertices), dtype=np.uint32)
    renumber[order] = np.arange(len(order), dtype=np.uint32)
    return vertices[order], renumber[triangles]


def encode_tile(key: TileKey, heights: NDArray[np.float32], max_error: float) -> EncodedTile:
    """``heights``: (GRID + 1)² ellipsoidal heights in metres, row 0 at the tile's north edge."""
    if heights.shape != (GRID + 1, GRID + 1) or not np.all(np.isfinite(heights)):
        raise ValueError("a tile's heights must be a full grid of finite values")
    tin = Delatin(np.ascontiguousarray(heights, dtype=np.float32), max_error=max_error)
    vertices = np.asarray(tin.vertices, dtype=np.float64).reshape(-1, 3)
    triangles = np.asarray(tin.triangles, dtype=np.uint32).reshape(-1, 3)
    west, _south, east, north = key.bounds
    step = (east - west) / GRID
    grid_points = np.c_[np.rint(vertices[:, 0]), GRID - np.rint(vertices[:, 1])]  # Delatin's y counts from the last row
    triangles = _counter_clockwise(np.c_[grid_points[:, 0], -grid_points[:, 1]], triangles)
    grid_points, triangles = _in_first_use_order(grid_points, triangles)
    column, row = grid_points[:, 0], grid_points[:, 1]
    lonlat = np.c_[west + column * step, north - row * step]
    h = heights[row.astype(np.intp), column.astype(np.intp)].astype(np.float64)
    positions = np.c_[lonlat, h]

    low, high = float(h.min()), float(h.max())
    span = high - low
    quantized = np.c_[
        np.rint(column * QUANTIZED_MAX / GRID),
        np.rint((GRID - row) * QUANTIZED_MAX / GRID),
        np.rint((h - low) / span * QUANTIZED_MAX) if span > 0 else np.zeros(len(h)),
    ].astype(np.int16)

    out = io.BytesIO()
    encode_header(out, compute_header(positions, "naive"))
    write_vertices(out, quantized, len(quantized))
    write_indices(out, triangles, len(quantized))
    write_edge_indices(out, quantized, len(quantized))
    out.write(VertexNormalsExtension(indices=triangles, positions=positions).encode())
    return EncodedTile(out.getvalue(), len(quantized), len(triangles), low, high)

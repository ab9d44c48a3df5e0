"""An independent reader of quantized-mesh 1.0 terrain tiles (Cesium's format specification), for
checking the terrain converter's output: header, vertices (zig-zag deltas), high-water-mark indices,
edge indices and extensions."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

HEADER = struct.Struct("<3d2f4d3d")  # centre, min/max height, bounding sphere, horizon occlusion point


@dataclass
class QuantizedMesh:
    center: tuple[float, float, float]
    min_height: float
    max_height: float
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    height: NDArray[np.int64]
    triangles: NDArray[np.int64]
    edges: dict[str, NDArray[np.int64]]
    extensions: dict[int, bytes] = field(default_factory=dict)

    def positions(self, west: float, south: float, east: float, north: float) -> NDArray[np.float64]:
        """(N, 3) longitude, latitude (degrees) and ellipsoidal height (metres) of the vertices."""
        lon = west + self.u / 32767.0 * (east - west)
        lat = south + self.v / 32767.0 * (north - south)
        h = self.min_height + self.height / 32767.0 * (self.max_height - self.min_height)
        return np.c_[lon, lat, h]


def _zigzag_deltas(values: NDArray[np.uint16]) -> NDArray[np.int64]:
    raw = values.astype(np.int64)
    decoded = (raw >> 1) ^ (-(raw & 1))
    return np.cumsum(decoded)


def decode(data: bytes) -> QuantizedMesh:
    fields = HEADER.unpack_from(data, 0)
    offset = HEADER.size
    (count,) = struct.unpack_from("<I", data, offset)
    offset += 4
    arrays = []
    for _ in range(3):
        arrays.append(_zigzag_deltas(np.frombuffer(data, dtype="<u2", count=count, offset=offset)))
        offset += 2 * count
    wide = count > 65536
    index_type, size = ("<u4", 4) if wide else ("<u2", 2)
    if offset % size:
        offset += size - offset % size
    (triangle_count,) = struct.unpack_from("<I", data, offset)
    offset += 4
    encoded = np.frombuffer(data, dtype=index_type, count=3 * triangle_count, offset=offset).astype(np.int64)
    offset += size * 3 * triangle_count
    indices = np.empty_like(encoded)
    highest = 0
    for i, code in enumerate(encoded):
        indices[i] = highest - code
        if code == 0:
            highest += 1
    edges = {}
    for name in ("west", "south", "east", "north"):
        (n,) = struct.unpack_from("<I", data, offset)
        offset += 4
        edges[name] = np.frombuffer(data, dtype=index_type, count=n, offset=offset).astype(np.int64)
        offset += size * n
    extensions = {}
    while offset < len(data):
        extension_id, length = struct.unpack_from("<BI", data, offset)
        offset += 5
        extensions[extension_id] = data[offset : offset + length]
        offset += length
    return QuantizedMesh(
        center=(fields[0], fields[1], fields[2]),
        min_height=fields[3],
        max_height=fields[4],
        u=arrays[0],
        v=arrays[1],
        height=arrays[2],
        triangles=indices.reshape(-1, 3),
        edges=edges,
        extensions=extensions,
    )


def heights_at(
    mesh: QuantizedMesh, bounds: tuple[float, float, float, float], lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The mesh's height at each (lon, lat) inside the tile (barycentric within its triangle), NaN outside."""
    points = mesh.positions(*bounds)
    out = np.full(len(lon), np.nan)
    a, b, c = (points[mesh.triangles[:, i]] for i in range(3))
    for k, (x, y) in enumerate(zip(lon, lat, strict=True)):
        det = (b[:, 1] - c[:, 1]) * (a[:, 0] - c[:, 0]) + (c[:, 0] - b[:, 0]) * (a[:, 1] - c[:, 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            l1 = ((b[:, 1] - c[:, 1]) * (x - c[:, 0]) + (c[:, 0] - b[:, 0]) * (y - c[:, 1])) / det
            l2 = ((c[:, 1] - a[:, 1]) * (x - c[:, 0]) + (a[:, 0] - c[:, 0]) * (y - c[:, 1])) / det
        l3 = 1 - l1 - l2
        inside = np.flatnonzero((l1 >= -1e-9) & (l2 >= -1e-9) & (l3 >= -1e-9))
        if inside.size:
            t = inside[0]
            out[k] = l1[t] * a[t, 2] + l2[t] * b[t, 2] + l3[t] * c[t, 2]
    return out

"""``EXT_meshopt_compression`` for triangle primitives (with ``KHR_mesh_quantization`` attributes).

One interleaved vertex stream per content (all primitives: the JSON stays small) — POSITION
(int16×3 normalized + pad, or float32×3), NORMAL (int8×3
normalized + pad), ``_FEATURE_ID_0`` (float32) — is deduplicated (identical vertices welded),
reordered for the vertex cache and fetch, and meshopt-encoded (vertex codec version 0, which every
decoder since 2020, including CesiumJS's, reads); indices use the triangle codec. Decoding is
tested with the meshoptimizer decoder (``tests/tiles/test_tiles_mesh.py``).
"""

from __future__ import annotations

from typing import Any

import meshoptimizer
import numpy as np

from tiles.glb import ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, GlbBuilder

INT16, INT8, FLOAT, UINT16, UINT32 = 5122, 5120, 5126, 5123, 5125


def _vertex_layout(positions: np.ndarray) -> np.dtype:
    position = ("p", "<i2", (4,)) if positions.dtype == np.int16 else ("p", "<f4", (3,))
    return np.dtype([position, ("n", "<i1", (4,)), ("f", "<f4")])


def weld(
    positions: np.ndarray, normals: np.ndarray, ids: np.ndarray, triangles: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Interleave, weld identical vertices and optimise order; returns (vertices (n, stride) uint8,
    indices uint32)."""
    layout = _vertex_layout(positions)
    vertices = np.zeros(len(positions), dtype=layout)
    vertices["p"][:, :3] = positions
    vertices["n"][:, :3] = normals
    vertices["f"] = ids
    stride = layout.itemsize
    raw = vertices.view(np.uint8).reshape(len(vertices), stride)
    indices = np.ascontiguousarray(triangles.reshape(-1), dtype=np.uint32)
    remap = np.zeros(len(raw), dtype=np.uint32)
    unique = meshoptimizer.generate_vertex_remap(
        remap, indices=indices, index_count=len(indices), vertices=raw, vertex_count=len(raw), vertex_size=stride
    )
    welded = np.zeros((unique, stride), dtype=np.uint8)
    meshoptimizer.remap_vertex_buffer(welded, raw, vertex_count=len(raw), vertex_size=stride, remap=remap)
    remapped = np.zeros_like(indices)
    meshoptimizer.remap_index_buffer(remapped, indices, index_count=len(indices), remap=remap)
    cached = np.zeros_like(remapped)
    meshoptimizer.optimize_vertex_cache(cached, remapped, index_count=len(remapped), vertex_count=unique)
    fetched = np.zeros_like(welded)
    count = meshoptimizer.optimize_vertex_fetch(
        fetched, cached, welded, index_count=len(cached), vertex_count=unique, vertex_size=stride
    )
    return fetched[:count], cached


def encode_primitives(
    builder: GlbBuilder, primitives: list[tuple[np.ndarray, np.ndarray]], quantized: bool, feature_ids: bool = True
) -> list[tuple[dict[str, int], int]]:
    """Encode welded primitives (from :func:`weld`) into one vertex and one index bufferView;
    returns (attribute accessors, index accessor) per primitive."""
    layout = _vertex_layout(np.zeros((0, 3), dtype=np.int16 if quantized else np.float32))
    fields = layout.fields
    assert fields is not None, "the vertex layout is a structured dtype"
    stride = layout.itemsize
    vertices = np.concatenate([v for v, _ in primitives])
    indices = np.concatenate([i for _, i in primitives])
    meshoptimizer.encode_vertex_version(0)
    meshopt_vertices = meshoptimizer.encode_vertex_buffer(vertices, vertex_count=len(vertices), vertex_size=stride)
    index_size = 2 if max(len(v) for v, _ in primitives) < 65536 else 4
    meshopt_indices = meshoptimizer.encode_index_buffer(indices, index_count=len(indices), vertex_count=len(vertices))
    vertex_view = builder.add_meshopt_view(meshopt_vertices, len(vertices), stride, "ATTRIBUTES", ARRAY_BUFFER)
    index_view = builder.add_meshopt_view(meshopt_indices, len(indices), index_size, "TRIANGLES", ELEMENT_ARRAY_BUFFER)
    out = []
    vertex_start = index_start = 0
    for welded, local_indices in primitives:
        count = len(welded)
        decoded = welded.view(layout).reshape(count)
        position_values = decoded["p"][:, :3]
        bounds: tuple[list[Any], list[Any]] = (
            [_number(v) for v in position_values.min(axis=0)],
            [_number(v) for v in position_values.max(axis=0)],
        )
        base = vertex_start * stride
        attributes = {
            "POSITION": builder.add_view_accessor(
                vertex_view, INT16 if quantized else FLOAT, count, "VEC3", base, normalized=quantized, bounds=bounds
            ),
            "NORMAL": builder.add_view_accessor(
                vertex_view, INT8, count, "VEC3", base + fields["n"][1], normalized=True
            ),
        }
        if feature_ids:
            attributes["_FEATURE_ID_0"] = builder.add_view_accessor(
                vertex_view, FLOAT, count, "SCALAR", base + fields["f"][1]
            )
        index_accessor = builder.add_view_accessor(
            index_view, UINT16 if index_size == 2 else UINT32, len(local_indices), "SCALAR", index_start * index_size
        )
        out.append((attributes, index_accessor))
        vertex_start += count
        index_start += len(local_indices)
    return out


def _number(value: Any) -> float | int:
    return int(value) if np.issubdtype(type(value), np.integer) else float(value)

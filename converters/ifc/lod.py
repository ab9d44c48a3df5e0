"""Coarse levels of detail: the elements of a subtree merged and simplified into one content.

:func:`simplify_elements` takes every part of the given elements (instances expanded), welds each
part's vertices by position (the tessellator writes a vertex per triangle corner; welding gives the
simplifier edges to collapse) and runs meshoptimizer's quadric edge-collapse simplifier on them as
one mesh (``meshopt_simplify`` with ``SIMPLIFY_PRUNE``: components that cannot matter at the error
reached — small elements inside the building — go first, the large ones that make the silhouette
stay). Parts are never welded to each other, so every kept triangle still belongs to exactly one
element and one material: the coarse content keeps per-element feature IDs and colours.

The error bound comes from the element sizes (:func:`prune_bound`: the bound at which pruning the
smaller elements brings the triangles within the budget); elements well under it are left out of
the mesh before simplifying, and only welded vertices go to the simplifier (memory and time on the
50 000-element model). The error is what the simplifier reports (``SIMPLIFY_ERROR_ABSOLUTE``: metres of deviation of the
kept surface), raised to the largest diagonal of any element removed entirely (what a viewer misses
at that level) — the content's geometric error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import meshoptimizer
import numpy as np

from converters.ifc.elements import Element, ElementPart

WELD_STEP_M = 0.001  # vertices of a part closer than this become one


@dataclass(slots=True)
class Coarse:
    parts: list[tuple[int, ElementPart]]  # (element key, flat-shaded part in tile ENU)
    error_m: float
    triangles: int
    source_triangles: int  # of all the elements given (before welding and pruning)


def _element_parts(element: Element) -> list[ElementPart]:
    if element.instance is None:
        return element.parts
    geometry, affine = element.instance
    linear, shift = affine[:3, :3], affine[:3, 3]
    return [
        ElementPart(
            (p.positions.astype(np.float64) @ linear.T + shift).astype(np.float32), None, p.triangles, p.material
        )
        for p in geometry.parts
    ]


def _quantized(positions: np.ndarray, step: float) -> list[np.ndarray]:
    """Each coordinate column on a ``step`` grid as int32 (±2 000 km at 1 mm), one column at a time."""
    return [np.rint(positions[:, c].astype(np.float64) / step).astype(np.int32) for c in range(positions.shape[1])]


def _weld(positions: np.ndarray, part_of_vertex: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(representative vertex index per vertex, unique vertex indices): same part and same position.
    Column-wise int32 keys and one sort: a few bytes per vertex on the way (large coarse levels)."""
    columns = [part_of_vertex, *_quantized(positions, WELD_STEP_M)]
    order = np.lexsort(columns[::-1])
    starts = np.zeros(len(order), dtype=bool)
    starts[0] = True
    for column in columns:
        ordered = column[order]
        starts[1:] |= ordered[1:] != ordered[:-1]
    group = np.cumsum(starts, dtype=np.int32)
    group -= 1
    first = order[starts]
    del starts
    representative = np.empty(len(order), dtype=np.int32)  # vertex indices fit: int32 halves the big arrays
    representative[order] = first[group]
    return representative, first


def prune_bound(elements: Sequence[Element], keys: Sequence[int], target_triangles: int) -> tuple[float, int]:
    """The error bound at which pruning alone brings ``keys`` within ``target_triangles``, and the
    triangles then left: the simplifier prunes a component once the bound passes its radius (half its
    diagonal), so keep the largest elements whose triangles fit (at least the largest group)."""
    radii = np.array([float(np.linalg.norm(elements[k].hi - elements[k].lo)) / 2 for k in keys])
    weights = np.array([elements[k].triangles for k in keys], dtype=np.int64)
    order = np.argsort(-radii, kind="stable")
    radii, cumulative = radii[order], np.cumsum(weights[order])
    distinct = np.flatnonzero(np.r_[radii[1:] < radii[:-1] * 0.99, True])  # last index of each radius group
    fitting = distinct[cumulative[distinct] <= target_triangles]
    last = int(fitting[-1]) if len(fitting) else int(distinct[0])
    if last + 1 >= len(radii):
        return float(radii[-1]) * 0.5, int(cumulative[-1])
    return float(np.sqrt(radii[last] * radii[last + 1])), int(cumulative[last])


def simplify_elements(
    elements: Sequence[Element], keys: Sequence[int], target_triangles: int, max_fraction: float = 1.0
) -> Coarse | None:
    """The elements ``keys`` merged and simplified to about ``target_triangles``. None when nothing
    is left, or when pruning cannot bring the triangles below ``max_fraction`` of the source (checked
    from the element sizes before any mesh is built)."""
    source_triangles = sum(elements[k].triangles for k in keys)
    bound, estimate = prune_bound(elements, keys, max(1, int(target_triangles)))
    if estimate > max_fraction * source_triangles:
        return None
    # elements well under the bound would only be pruned: leave them out of the mesh from the start
    candidates = [k for k in keys if float(np.linalg.norm(elements[k].hi - elements[k].lo)) / 2 > bound / 2]
    positions, triangles, part_owner, part_material = [], [], [], []
    owner_of_part: list[int] = []
    offset = 0
    for key in candidates:
        for part in _element_parts(elements[key]):
            if not len(part.triangles):
                continue
            positions.append(np.asarray(part.positions, dtype=np.float32))
            triangles.append(part.triangles.astype(np.int32) + np.int32(offset))
            part_owner.append(np.full(len(part.positions), len(owner_of_part), dtype=np.int32))
            part_material.append(part.material)
            owner_of_part.append(key)
            offset += len(part.positions)
    if not positions:
        return None
    vertices = np.concatenate(positions)
    part_of_vertex = np.concatenate(part_owner)
    faces = np.concatenate(triangles)
    representative, first = _weld(vertices, part_of_vertex)
    compact = np.empty(len(vertices), dtype=np.int32)  # welded vertices only go to the simplifier
    compact[first] = np.arange(len(first), dtype=np.int32)
    faces = compact[representative[faces]]
    del representative
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
    indices = faces.astype(np.uint32).ravel()
    del faces
    points = np.ascontiguousarray(vertices[first], dtype=np.float32)
    count, destination, error = _simplify(indices, points, max(1, int(target_triangles)), bound)
    kept = first[destination[:count].reshape(-1, 3).astype(np.int64)]
    if not len(kept):
        return None
    parts = _flat_parts(vertices, kept, part_of_vertex, owner_of_part, part_material)
    surviving = {key for key, _ in parts}
    missing = [elements[k] for k in set(keys) - surviving]
    lost = max((float(np.linalg.norm(e.hi - e.lo)) for e in missing), default=0.0)
    return Coarse(parts, max(error, lost), len(kept), source_triangles)


def _simplify(
    indices: np.ndarray, points: np.ndarray, target_triangles: int, error_m: float
) -> tuple[int, np.ndarray, float]:
    destination = np.zeros(len(indices), dtype=np.uint32)
    reached = np.zeros(1, dtype=np.float32)
    count = meshoptimizer.simplify(
        destination,
        indices,
        points,
        target_index_count=3 * target_triangles,
        target_error=error_m,
        options=meshoptimizer.SIMPLIFY_ERROR_ABSOLUTE | meshoptimizer.SIMPLIFY_PRUNE,
        result_error=reached,
    )
    return int(count), destination, float(reached[0])


def _flat_parts(
    vertices: np.ndarray,
    kept: np.ndarray,
    part_of_vertex: np.ndarray,
    owner_of_part: list[int],
    part_material: list[int],
) -> list[tuple[int, ElementPart]]:
    """Kept triangles grouped by part, one vertex per corner with the face normal (flat shading)."""
    part = part_of_vertex[kept[:, 0]]
    order = np.argsort(part, kind="stable")
    kept, part = kept[order], part[order]
    corners = vertices[kept].astype(np.float64)  # (T, 3, 3)
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    bounds = np.flatnonzero(np.diff(part)) + 1
    out: list[tuple[int, ElementPart]] = []
    for start, stop in zip(np.r_[0, bounds], np.r_[bounds, len(part)], strict=True):
        index = int(part[start])
        count = int(stop - start)
        out.append(
            (
                owner_of_part[index],
                ElementPart(
                    corners[start:stop].reshape(-1, 3).astype(np.float32),
                    np.repeat(normals[start:stop], 3, axis=0).astype(np.float32),
                    np.arange(3 * count, dtype=np.int32).reshape(-1, 3),
                    part_material[index],
                ),
            )
        )
    return out

"""Writing collected IFC elements as a 3D Tiles 1.1 tileset, and the model's footprint.

Tiles: a spatial binary tree (:func:`tiles.hierarchy.build_lod_hierarchy`) whose leaves hold the
elements at full detail (at most ``MAX_CONTENT_TRIANGLES`` each) and whose inner tiles hold the
whole subtree merged and simplified (:mod:`.lod`) to a quarter of its triangles (at most
``PARENT_TRIANGLES``), with ``REPLACE`` refinement: from afar the building keeps its silhouette in
few triangles, and each tile's geometric error is the simplification error of its content (an inner
tile whose level would repeat its parent's — same elements pruned, same error — gets none). A model
of at least ``COARSE_MIN_TRIANGLES`` that fits in one leaf still gets a coarse root above it;
smaller models are one tile.

Feature tables: one row per element in each content, rows ordered by GlobalId. ``elementIndex``
is the element's rank in the model's sorted GlobalIds — the same on every conversion of the model,
whatever the file order or tiling; ``GlobalId`` itself is the key across model revisions. Coarse
contents keep the rows (and feature IDs) of the elements that survive simplification.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from converters.georef import LocalFrame
from converters.ifc.elements import Element
from converters.ifc.lod import prune_bound, simplify_elements
from converters.ifc.workers import run_tasks
from tiles.hierarchy import HierarchyNode, Item, build_lod_hierarchy, to_tiles
from tiles.instancing import InstanceGroup
from tiles.mesh import Material, MeshPart, write_mesh_glb
from tiles.tileset import BoundingVolume, Tileset

MAX_CONTENT_TRIANGLES = 250_000
PARENT_TRIANGLES = 60_000
COARSE_RATIO = 0.25  # an inner tile keeps about this share of its subtree's triangles
COARSE_MIN_TRIANGLES = 2_000  # smaller subtrees get no coarse content
COARSE_MAX_FRACTION = 0.6  # a simplification keeping more than this is not worth a level
PARALLEL_MIN_TRIANGLES = 50_000  # smaller models are written in-process (workers cost more to start)


def write_tileset(
    elements: list[Element],
    materials: list[Material],
    rows: list[dict[str, Any]],
    frame: LocalFrame,
    out_dir: Path,
    compress: bool,
    metadata: dict[str, str | float | int | bool],
    jobs: int = 1,
) -> dict[str, Any]:
    """Write glb contents and tileset.json; returns {tiles, contents, bytes, coarse, footprint}.

    With ``jobs`` > 1 the contents (and the footprint) are written by that many threads
    (:mod:`.workers`), largest first. ``rows``: each element's feature row (same order)."""
    order = sorted(range(len(elements)), key=lambda i: elements[i].guid)
    element_index = {i: rank for rank, i in enumerate(order)}
    items = [Item(i, e.lo, e.hi, e.triangles) for i, e in enumerate(elements)]
    root = build_lod_hierarchy(items, MAX_CONTENT_TRIANGLES)
    total = sum(e.triangles for e in elements)
    if not root.children and total >= COARSE_MIN_TRIANGLES:  # one leaf: a coarse root above it
        leaf = HierarchyNode(list(root.keys), root.lo, root.hi, 0.0, depth=1)
        root = HierarchyNode(list(root.keys), root.lo, root.hi, 0.0, [leaf])

    def features_of(keys: list[int]) -> dict[str, list[Any]]:
        table_rows = [rows[i] for i in keys]
        features: dict[str, list[Any]] = {"elementIndex": [element_index[i] for i in keys]}
        for column in _column_names(table_rows):
            features[column] = [r.get(column) for r in table_rows]
        return features

    def write_coarse(node: HierarchyNode, name: str) -> dict[str, Any]:
        subtree = sum(elements[i].triangles for i in node.keys)
        if subtree < COARSE_MIN_TRIANGLES:
            return {}
        coarse = simplify_elements(elements, node.keys, _coarse_target(node, elements), COARSE_MAX_FRACTION)
        if coarse is None or coarse.triangles > COARSE_MAX_FRACTION * coarse.source_triangles:
            return {}
        keys = sorted({key for key, _ in coarse.parts}, key=lambda i: elements[i].guid)
        row_of = {key: row for row, key in enumerate(keys)}
        parts = [MeshPart(p.positions, p.normals, p.triangles, p.material, row_of[key]) for key, p in coarse.parts]
        content = write_mesh_glb(parts, materials, features_of(keys), path=out_dir / f"{name}.glb", compress=compress)
        coarse_report = {
            "content": f"{name}.glb",
            "triangles": coarse.triangles,
            "source_triangles": coarse.source_triangles,
            "elements": len(keys),
            "source_elements": len(node.keys),
            "geometric_error_m": round(coarse.error_m, 4),
        }
        return {**_content_result(content), "error": coarse.error_m, "coarse": coarse_report}

    def write_leaf(node: HierarchyNode, name: str) -> dict[str, Any]:
        keys = sorted(node.keys, key=lambda i: elements[i].guid)
        features = features_of(keys)
        parts = [
            MeshPart(p.positions, p.normals, p.triangles, p.material, row)
            for row, i in enumerate(keys)
            for p in elements[i].parts
        ]
        groups: dict[str, tuple[Any, list[np.ndarray], list[int]]] = {}
        for row, i in enumerate(keys):
            instance = elements[i].instance
            if instance is not None:
                geometry, affine = instance
                entry = groups.setdefault(geometry.key, (geometry, [], []))
                entry[1].append(affine)
                entry[2].append(row)
        instances = [
            InstanceGroup(
                [MeshPart(p.positions, p.normals, p.triangles, p.material, 0) for p in geometry.parts],
                np.array(transforms),
                rows_,
            )
            for geometry, transforms, rows_ in groups.values()
        ]
        content = write_mesh_glb(
            parts, materials, features, path=out_dir / f"{name}.glb", compress=compress, instances=instances
        )
        return _content_result(content)

    nodes = _named_nodes(root, "t")
    repeats = _repeated_levels(root, elements)
    tasks: list[Callable[[], Any]] = [lambda: footprint(elements, frame)]
    weights = [total]
    for node, name in nodes:
        if node.children and name in repeats:
            tasks.append(dict)  # its coarse level would repeat its parent's: no content
        else:
            tasks.append(partial(write_coarse if node.children else write_leaf, node, name))
        weights.append(sum(elements[i].triangles for i in node.keys) * (2 if node.children else 1))
    results = run_tasks(tasks, weights, jobs if total >= PARALLEL_MIN_TRIANGLES else 1)
    written: dict[str, Any] = {"contents": 0, "bytes": 0, "max_content_triangles": 0, "coarse": []}
    by_name: dict[str, Any] = {}
    for (_, name), result in zip(nodes, results[1:], strict=True):
        by_name[name] = result
        if result:
            written["contents"] += 1
            written["bytes"] += result["bytes"]
            written["max_content_triangles"] = max(written["max_content_triangles"], result["triangles"])
        if result.get("coarse"):
            written["coarse"].append(result["coarse"])
    for element in elements:  # written: free the geometry
        element.parts = []
        element.instance = None

    def place(node: HierarchyNode, name: str) -> BoundingVolume | None:
        result = by_name[name]
        node.geometric_error = result.get("error", 0.0)
        box: BoundingVolume | None = result.get("box")
        return box

    root_tile = to_tiles(root, place, refine="REPLACE")
    root_tile.transform = frame.tileset_transform()
    lo, hi = root_tile.bounding_volume.bounds()
    diagonal = float(np.linalg.norm(hi - lo))
    tileset = Tileset(root_tile, max(diagonal, root_tile.geometric_error, 1.0), metadata=metadata)
    written["bytes"] += tileset.write(out_dir / "tileset.json")
    written["tiles"] = len(root_tile.walk())
    written["depth"] = _depth(root)
    written["footprint"] = results[0]
    return written


def _coarse_target(node: HierarchyNode, elements: list[Element]) -> int:
    subtree = sum(elements[i].triangles for i in node.keys)
    return min(PARENT_TRIANGLES, int(np.ceil(COARSE_RATIO * subtree)))


def _repeated_levels(root: HierarchyNode, elements: list[Element]) -> set[str]:
    """Inner nodes whose coarse level would prune at (almost) the same size as their parent's, i.e.
    show the same elements with the same error: no refinement, only bytes (a grid of equal boxes)."""
    repeated: set[str] = set()

    def visit(node: HierarchyNode, name: str, parent_bound: float | None) -> None:
        if not node.children:
            return
        bound, _ = prune_bound(elements, node.keys, _coarse_target(node, elements))
        if parent_bound is not None and bound >= 0.9 * parent_bound:
            repeated.add(name)
        for i, child in enumerate(node.children):
            visit(child, f"{name}_{i}", bound)

    visit(root, "t", None)
    return repeated


def _named_nodes(node: HierarchyNode, name: str) -> list[tuple[HierarchyNode, str]]:
    """Every node with the content name :func:`tiles.hierarchy.to_tiles` gives it."""
    out = [(node, name)]
    for i, child in enumerate(node.children):
        out += _named_nodes(child, f"{name}_{i}")
    return out


def _content_result(content: Any) -> dict[str, Any]:
    return {"box": content.box, "bytes": len(content.data), "triangles": content.triangle_count}


def _depth(node: HierarchyNode) -> int:
    return 1 + max((_depth(c) for c in node.children), default=0)


def _column_names(rows: list[dict[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return list(names)


def footprint(elements: list[Element], frame: LocalFrame) -> dict[str, Any] | None:
    """The union of the elements' plan projections (convex hull each), as GeoJSON in EPSG:4326.

    Hulls are built in one vectorised call on a 1 cm grid and deduplicated before the union:
    storeys repeat the same plan shapes, and the union is the expensive step on large models.
    """
    coordinates, owners = [], []
    for index, element in enumerate(elements):
        if element.instance is not None:
            geometry, affine = element.instance
            xy = (geometry.corners @ affine[:3, :3].T + affine[:3, 3])[:, :2]
        elif element.parts:
            xy = np.concatenate([p.positions[:, :2] for p in element.parts])
        else:
            continue
        coordinates.append(np.asarray(xy, dtype=np.float64))
        owners.append(np.full(len(xy), index, dtype=np.int32))
    if not coordinates:
        return None
    owner = np.concatenate(owners).astype(np.int32)
    xy = np.concatenate(coordinates)
    x, y = (np.rint(xy[:, c] * 100).astype(np.int32) for c in range(2))  # 1 cm grid
    order = np.lexsort((y, x, owner))
    keep = np.ones(len(order), dtype=bool)  # each element's distinct points only
    keep[1:] = (np.diff(owner[order]) != 0) | (np.diff(x[order]) != 0) | (np.diff(y[order]) != 0)
    order = order[keep]
    points = np.column_stack([x[order], y[order]]) / 100.0
    hulls = np.asarray(shapely.convex_hull(shapely.multipoints(points, indices=owner[order])), dtype=object)
    hulls = hulls[shapely.area(hulls) > 1e-6]
    if not len(hulls):
        return None
    _, unique = np.unique(shapely.to_wkb(hulls), return_index=True)  # storeys repeat plans
    union = shapely.union_all(hulls[unique]).simplify(0.05)  # (grid_size would be 6x slower)

    def to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        geo = frame.enu_to_geodetic(np.stack([x, y, np.zeros_like(x)], axis=-1))
        return geo[:, 0], geo[:, 1]

    geographic = shapely.transform(union, lambda xy: np.stack(to_lonlat(xy[:, 0], xy[:, 1]), axis=-1))
    return {"crs": "EPSG:4326", "geometry": mapping(geographic), "area_m2": round(float(union.area), 2)}

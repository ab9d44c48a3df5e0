"""Spatial tile hierarchy for features with bounds: bounded content, coarse parents, ``ADD`` refinement.

Public API (stable)::

    from tiles.hierarchy import Item, build_hierarchy, to_tiles

    root = build_hierarchy(items, max_weight=300_000, parent_weight=75_000)
        # items: Item(key, lo, hi, weight) with bounds in local ENU metres and a weight (triangles);
        # returns a HierarchyNode tree: each node has its own ``keys`` (content) and children
    tile = to_tiles(root, write_content)
        # write_content(node, name) -> BoundingVolume | None writes the node's content (name without
        # suffix, e.g. "t_0_1") and returns its volume; returns the root Tile (refine "ADD")

    root = build_lod_hierarchy(items, max_weight=250_000)
    tile = to_tiles(root, write_content, refine="REPLACE")
        # leaves hold the items; every inner node's ``keys`` are all the items below it, for a
        # simplified (coarse) content whose error the writer sets on ``node.geometric_error``

A node whose items weigh more than ``max_weight`` keeps its largest items (up to ``parent_weight``,
the coarse level a viewer shows from afar) and splits the rest in two at the median along the
longest axis of their centres, recursively. A node's geometric error is the largest diagonal of
the items below it (what is missing until its children load); leaves have 0, so errors never grow
downward. Tile volumes are the union of the subtree's item bounds, so children lie inside parents
and contents inside tiles.

:func:`build_lod_hierarchy` is the ``REPLACE`` variant: the same median splits until a leaf weighs at
most ``max_weight``, every item in a leaf, and inner nodes standing for their whole subtree (the
writer puts a merged, simplified content there). :func:`to_tiles` reads each node's geometric error
after writing its content, never lets it be smaller than a child's, and gives a content-less inner
node its box diagonal (what is missing until its children load).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from tiles.tileset import BoundingVolume, Content, Tile


@dataclass(slots=True)
class Item:
    key: int
    lo: np.ndarray
    hi: np.ndarray
    weight: int


@dataclass(slots=True)
class HierarchyNode:
    keys: list[int]
    lo: np.ndarray
    hi: np.ndarray
    geometric_error: float
    children: list[HierarchyNode] = field(default_factory=list)
    depth: int = 0


def _bounds(items: Sequence[Item]) -> tuple[np.ndarray, np.ndarray]:
    return np.min([i.lo for i in items], axis=0), np.max([i.hi for i in items], axis=0)


def _diagonal(item: Item) -> float:
    return float(np.linalg.norm(item.hi - item.lo))


def build_hierarchy(
    items: Sequence[Item], max_weight: int = 300_000, parent_weight: int = 75_000, depth: int = 0
) -> HierarchyNode:
    if not items:
        raise ValueError("no items")
    lo, hi = _bounds(items)
    total = sum(i.weight for i in items)
    if total <= max_weight or len(items) == 1 or depth > 24:
        return HierarchyNode([i.key for i in items], lo, hi, 0.0, depth=depth)
    ranked = sorted(items, key=_diagonal, reverse=True)
    own: list[Item] = []
    used = 0
    for item in ranked:
        if used + item.weight > parent_weight:
            break
        own.append(item)
        used += item.weight
    rest = ranked[len(own) :]
    if len(rest) == 1:
        own, rest = own + rest, []
    node = HierarchyNode([i.key for i in own], lo, hi, 0.0, depth=depth)
    if rest:
        centres = np.array([(i.lo + i.hi) / 2 for i in rest])
        axis = int(np.argmax(np.ptp(centres, axis=0)))
        order = np.argsort(centres[:, axis], kind="stable")
        half = len(order) // 2
        for chunk in (order[:half], order[half:]):
            node.children.append(build_hierarchy([rest[k] for k in chunk], max_weight, parent_weight, depth + 1))
        node.geometric_error = max(_diagonal(i) for i in rest)
        node.geometric_error = max([node.geometric_error, *(c.geometric_error for c in node.children)])
    return node


def build_lod_hierarchy(items: Sequence[Item], max_weight: int = 300_000, depth: int = 0) -> HierarchyNode:
    """Leaves of at most ``max_weight`` (median splits on the longest axis of the item centres);
    inner nodes list every key below them. Geometric errors start at 0 (the writer sets them)."""
    if not items:
        raise ValueError("no items")
    lo, hi = _bounds(items)
    node = HierarchyNode([i.key for i in items], lo, hi, 0.0, depth=depth)
    if sum(i.weight for i in items) <= max_weight or len(items) == 1 or depth > 24:
        return node
    centres = np.array([(i.lo + i.hi) / 2 for i in items])
    axis = int(np.argmax(np.ptp(centres, axis=0)))
    order = np.argsort(centres[:, axis], kind="stable")
    half = len(order) // 2
    for chunk in (order[:half], order[half:]):
        node.children.append(build_lod_hierarchy([items[k] for k in chunk], max_weight, depth + 1))
    return node


def to_tiles(
    root: HierarchyNode,
    write_content: Callable[[HierarchyNode, str], BoundingVolume | None],
    name: str = "t",
    refine: Literal["ADD", "REPLACE"] = "ADD",
) -> Tile:
    """Write each node's content (via ``write_content``) and return the Tile tree (root ``refine``)."""
    tile = _to_tile(root, write_content, name)
    tile.refine = refine
    return tile


def _to_tile(
    node: HierarchyNode, write_content: Callable[[HierarchyNode, str], BoundingVolume | None], name: str
) -> Tile:
    content = None
    if node.keys:
        volume = write_content(node, name)
        if volume is not None:
            content = Content(f"{name}.glb", volume)
    children = [_to_tile(child, write_content, f"{name}_{i}") for i, child in enumerate(node.children)]
    lo, hi = node.lo, node.hi
    if content is not None and content.bounding_volume is not None:
        c_lo, c_hi = content.bounding_volume.bounds()
        lo, hi = np.minimum(lo, c_lo), np.maximum(hi, c_hi)
    for child in children:
        c_lo, c_hi = child.bounding_volume.bounds()
        lo, hi = np.minimum(lo, c_lo), np.maximum(hi, c_hi)
    error = max([node.geometric_error, *(c.geometric_error for c in children)])
    if children and content is None:
        error = max(error, float(np.linalg.norm(hi - lo)))  # nothing shown until the children load
    node.geometric_error = error
    return Tile(BoundingVolume.from_bounds(lo, hi), error, content, children)

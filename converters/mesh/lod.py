"""Spatial split of large meshes and coarser parents by quadric simplification (refine REPLACE).

A piece with more than ``max_triangles`` is split in two at the median face centre along its longest
axis, recursively. Each parent is the concatenation of its children simplified with
fast-simplification down to ``max_triangles``; UVs and vertex colours follow the collapse mapping
(each kept vertex takes the attributes of a vertex merged into it), so textures stay on parents.
A parent's geometric error is the mean edge length of its simplified mesh (the size of the detail
it lacks), never below its children's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import fast_simplification
import numpy as np
from numpy.typing import NDArray

from converters.mesh.glb_writer import Piece


@dataclass(slots=True)
class LodNode:
    pieces: list[Piece]
    geometric_error: float = 0.0
    children: list[LodNode] = field(default_factory=list)

    @property
    def triangles(self) -> int:
        return sum(len(p.faces) for p in self.pieces)


def _subset(piece: Piece, face_mask: NDArray[np.bool_]) -> Piece:
    faces = piece.faces[face_mask]
    used, local = np.unique(faces, return_inverse=True)
    return Piece(
        piece.positions[used], local.reshape(-1, 3),
        None if piece.uv is None else piece.uv[used],
        None if piece.colors is None else piece.colors[used],
        piece.texture, piece.rgba,
    )


def _split(pieces: list[Piece]) -> tuple[list[Piece], list[Piece]]:
    centres = [p.positions[p.faces].mean(axis=1) for p in pieces]
    everything = np.concatenate(centres)
    axis = int(np.argmax(np.ptp(everything, axis=0)))
    cut = float(np.median(everything[:, axis]))
    left: list[Piece] = []
    right: list[Piece] = []
    for piece, centre in zip(pieces, centres, strict=True):
        mask = centre[:, axis] < cut
        if mask.all() and len(left) == 0 and len(pieces) == 1:  # degenerate: all on one side
            mask = np.arange(len(mask)) < len(mask) // 2
        if mask.any():
            left.append(_subset(piece, mask))
        if (~mask).any():
            right.append(_subset(piece, ~mask))
    return left, right


def _simplify(piece: Piece, target: int) -> Piece:
    if len(piece.faces) <= target or len(piece.faces) < 8:
        return piece
    reduction = 1.0 - target / len(piece.faces)
    points, faces, collapses = fast_simplification.simplify(piece.positions, piece.faces, reduction,
                                                           return_collapses=True)
    _, _, mapping = fast_simplification.replay_simplification(piece.positions, piece.faces, collapses)
    uv = colors = None
    if piece.uv is not None:
        uv = np.zeros((len(points), 2), dtype=np.float32)
        uv[mapping] = piece.uv
    if piece.colors is not None:
        colors = np.zeros((len(points), 4), dtype=np.uint8)
        colors[mapping] = piece.colors
    return Piece(np.asarray(points, dtype=np.float64), np.asarray(faces, dtype=np.int64), uv, colors, piece.texture,
                 piece.rgba)


def _mean_edge(pieces: list[Piece]) -> float:
    lengths = [np.linalg.norm(p.positions[p.faces] - p.positions[np.roll(p.faces, 1, axis=1)], axis=2).ravel()
               for p in pieces if len(p.faces)]
    return float(np.concatenate(lengths).mean()) if lengths else 0.0


def build_lod(pieces: list[Piece], max_triangles: int, depth: int = 0) -> LodNode:
    total = sum(len(p.faces) for p in pieces)
    if total <= max_triangles or depth > 20:
        return LodNode(pieces)
    left, right = _split(pieces)
    children = [build_lod(side, max_triangles, depth + 1) for side in (left, right) if side]
    coarse_input = [p for child in children for p in child.pieces]
    share = max_triangles / max(sum(len(p.faces) for p in coarse_input), 1)
    coarse = [_simplify(p, max(4, int(len(p.faces) * share))) for p in coarse_input]
    coarse = [p for p in coarse if len(p.faces)]
    error = max([_mean_edge(coarse), *(c.geometric_error for c in children)])
    return LodNode(coarse, error, children)

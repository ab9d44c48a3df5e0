"""Closed solids along 3D centrelines, many at once with array operations: round tubes, rectangular boxes
(culverts, utility tunnels, duct banks) and vertical manhole shafts.

Every solid is closed (side walls and two end caps). An end may be cut by a *miter plane* (normal given per
end): two pipes meeting at a bend are cut by the bisecting plane, so their ends lie on the same plane and
the joint shows no gap and no overlap. Coordinates are local ENU metres (z up).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
MIN_MITER_COS = 0.35  # ends turned further than ~70 degrees from the axis are cut square


@dataclass(slots=True)
class Solids:
    """Vertices, normals and triangles of ``count`` solids; ``owner`` maps each vertex to its solid (0..count)."""

    positions: Array
    normals: Array
    triangles: NDArray[np.int64]
    owner: NDArray[np.int64]

    @staticmethod
    def empty() -> Solids:
        return Solids(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64))


def _unit(vectors: Array) -> Array:
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.asarray(vectors / np.maximum(length, 1e-12), dtype=np.float64)


def frames(start: Array, end: Array) -> tuple[Array, Array, Array]:
    """Per axis: direction d, horizontal side u, and v (up-ish), with (u, v, -d) right-handed."""
    d = _unit(end - start)
    up = np.array([0.0, 0.0, 1.0])
    u = np.cross(d, up)
    vertical = np.linalg.norm(u, axis=1) < 1e-9
    u[vertical] = [1.0, 0.0, 0.0]
    u = _unit(np.asarray(u, dtype=np.float64))
    v = np.cross(u, d)
    return d, u, v


def _miter(ring: Array, centre: Array, d: Array, normal: Array | None, limit: Array) -> Array:
    """Slide ring vertices (n, K, 3) along the axis onto the plane through ``centre`` with ``normal``."""
    if normal is None:
        return ring
    n = _unit(normal)
    cos = np.abs(np.einsum("ij,ij->i", d, n))
    n = np.where((cos >= MIN_MITER_COS)[:, None], n, d)
    along = np.einsum("ij,ij->i", d, n)
    t = -np.einsum("ikj,ij->ik", ring - centre[:, None, :], n) / along[:, None]
    t = np.clip(t, -limit[:, None], limit[:, None])
    return np.asarray(ring + t[..., None] * d[:, None, :], dtype=np.float64)


def _profile(sides: int, smooth: bool) -> tuple[Array, Array]:
    """Unit profile directions (cos, sin) and side normal angles; a box has its corners at 45° steps."""
    count = sides if smooth else 4
    angles = np.asarray(2 * np.pi * np.arange(count) / count + (0.0 if smooth else np.pi / 4), dtype=np.float64)
    return np.cos(angles), np.sin(angles)


def prisms(start: Array, end: Array, half_u: Array, half_v: Array, sides: int = 12, round_: bool = True,
           start_normal: Array | None = None, end_normal: Array | None = None) -> Solids:
    """Closed prisms from ``start`` to ``end`` (n, 3): round (``sides``-gon of radius ``half_u``) or
    rectangular (half width ``half_u`` across, half height ``half_v``), ends cut by the given planes."""
    n = len(start)
    if n == 0:
        return Solids.empty()
    k = sides if round_ else 4
    d, u, v = frames(start, end)
    cos, sin = _profile(k, round_)
    if round_:
        offsets = half_u[:, None, None] * (cos[None, :, None] * u[:, None, :] + sin[None, :, None] * v[:, None, :])
    else:
        offsets = (np.sign(cos)[None, :, None] * half_u[:, None, None] * u[:, None, :]
                   + np.sign(sin)[None, :, None] * half_v[:, None, None] * v[:, None, :])
    limit = 3.0 * np.maximum(half_u, half_v)
    ring0 = _miter(start[:, None, :] + offsets, start, d, start_normal, limit)
    ring1 = _miter(end[:, None, :] + offsets, end, d, end_normal, limit)
    nxt = (np.arange(k) + 1) % k
    if round_:
        side_normals = _unit(offsets)
        side_positions = np.concatenate([ring0, ring1], axis=1)  # (n, 2k)
        side_n = np.concatenate([side_normals, side_normals], axis=1)
        a, b, c, e = np.arange(k), nxt, k + nxt, k + np.arange(k)  # r0k, r0k1, r1k1, r1k
        side_tris = np.concatenate([np.stack([a, c, b], 1), np.stack([a, e, c], 1)])
        side_count = 2 * k
    else:
        # four flat faces, four vertices each: r0k, r0k1, r1k1, r1k
        side_positions = np.concatenate(
            [np.stack([ring0[:, i], ring0[:, nxt[i]], ring1[:, nxt[i]], ring1[:, i]], axis=1) for i in range(4)],
            axis=1)
        mids = _unit(offsets + offsets[:, nxt])
        side_n = np.repeat(mids, 4, axis=1)
        quad = np.arange(4) * 4
        side_tris = np.concatenate([np.stack([quad, quad + 2, quad + 1], 1), np.stack([quad, quad + 3, quad + 2], 1)])
        side_count = 16
    # caps: a centre and the ring, normals -d (start) and +d (end)
    cap0 = np.concatenate([start[:, None, :], ring0], axis=1)
    cap1 = np.concatenate([end[:, None, :], ring1], axis=1)
    ring_index = np.arange(k) + 1
    cap0_tris = np.stack([np.zeros(k, dtype=np.int64), ring_index, ring_index[nxt]], 1) + side_count
    cap1_tris = np.stack([np.zeros(k, dtype=np.int64), ring_index[nxt], ring_index], 1) + side_count + k + 1
    per_positions = np.concatenate([side_positions, cap0, cap1], axis=1)
    per_normals = np.concatenate(
        [side_n, np.repeat(-d[:, None, :], k + 1, axis=1), np.repeat(d[:, None, :], k + 1, axis=1)], axis=1)
    per_tris = np.concatenate([side_tris, cap0_tris, cap1_tris])
    vertex_count = per_positions.shape[1]
    triangles = (per_tris[None, :, :] + (np.arange(n) * vertex_count)[:, None, None]).reshape(-1, 3)
    return Solids(per_positions.reshape(-1, 3), per_normals.reshape(-1, 3), triangles.astype(np.int64),
                  np.repeat(np.arange(n, dtype=np.int64), vertex_count))


def concat(parts: list[tuple[Solids, NDArray[np.int64]]]) -> Solids:
    """Several :class:`Solids` as one; each part's owners renumbered through its ``ids`` (owner → id)."""
    parts = [(s, ids) for s, ids in parts if len(s.triangles)]
    if not parts:
        return Solids.empty()
    offsets = np.cumsum([0] + [len(s.positions) for s, _ in parts])
    return Solids(
        np.concatenate([s.positions for s, _ in parts]),
        np.concatenate([s.normals for s, _ in parts]),
        np.concatenate([s.triangles + offsets[i] for i, (s, _) in enumerate(parts)]),
        np.concatenate([ids[s.owner] for s, ids in parts]),
    )


def triangles_per_solid(round_: bool, sides: int) -> int:
    return 4 * sides if round_ else 12

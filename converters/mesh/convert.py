"""Scan/photogrammetry meshes (OBJ, PLY, glTF/GLB) → georeferenced 3D Tiles 1.1 (refine REPLACE).

Meshes carry no CRS: ``--crs`` alone says the vertices are map coordinates; ``--origin`` (with
``--crs`` or as WGS84 lon/lat/h) places local coordinates, with ``--rotation``, ``--scale`` and
``--up z|y`` (glTF files are y-up by definition); ``--local`` puts them at the default location.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.errors import GeoreferencingError
from converters.georef import LocalFrame
from converters.mesh.glb_writer import Piece, write_scan_glb
from converters.mesh.load import Submesh, load_mesh
from converters.mesh.lod import LodNode, build_lod
from converters.options import ConvertOptions
from converters.pointcloud.fast_transform import FastToEnu
from converters.pointcloud.octree import Cube
from converters.pointcloud.outline import Occupancy
from converters.pointcloud.placement import Placement, place_at_origin, place_in_crs, place_local
from tiles.tileset import BoundingVolume, Content, Tile, Tileset

MAX_TILE_TRIANGLES = 150_000
CONTENT_DIR = "mesh"


def _y_up_to_z_up(vertices: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.column_stack([vertices[:, 0], -vertices[:, 2], vertices[:, 1]])


def _placement(options: ConvertOptions, lo: NDArray[np.float64], hi: NDArray[np.float64], name: str) -> Placement:
    if options.local:
        return place_local(options, lo, hi)
    if options.origin is not None:
        return place_at_origin(options)
    if options.crs:
        return place_in_crs(options.crs, lo, hi)
    raise GeoreferencingError(
        f"{name}: meshes carry no coordinate reference system; pass --crs EPSG:CODE (map coordinates), "
        "--origin E,N,H with --crs (local coordinates), or --local to put it at the default location"
    )


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    started = time.perf_counter()
    path = Path(input_path)
    out_dir = Path(out_dir)
    submeshes = load_mesh(path)
    y_up = path.suffix.lower() in (".gltf", ".glb") or options.up == "y"
    if y_up:
        for sub in submeshes:
            sub.vertices = _y_up_to_z_up(sub.vertices)
    options.report_progress(0.2, "mesh loaded")
    lo = np.min([s.vertices.min(axis=0) for s in submeshes], axis=0)
    hi = np.max([s.vertices.max(axis=0) for s in submeshes], axis=0)
    placement = _placement(options, lo, hi, path.name)
    to_enu = FastToEnu(placement.to_enu, lo, hi)
    pieces = [_piece(sub, to_enu) for sub in submeshes]
    root = build_lod(pieces, MAX_TILE_TRIANGLES)
    options.report_progress(0.6, "levels of detail built")
    (out_dir / CONTENT_DIR).mkdir(parents=True, exist_ok=True)
    stats = {"tiles": 0, "bytes": 0}
    tile = _write(root, out_dir, f"{CONTENT_DIR}/m", stats)
    tile.refine = "REPLACE"
    tile.transform = placement.frame.tileset_transform()
    t_lo, t_hi = tile.bounding_volume.bounds()
    tileset = Tileset(root=tile, geometric_error=max(float(np.linalg.norm(t_hi - t_lo)), tile.geometric_error),
                      extras={"source": path.name})
    tileset_bytes = tileset.write(out_dir / "tileset.json")
    outline, area = _outline(pieces, placement.frame)
    options.report_progress(1.0, "done")
    textured = sum(1 for s in submeshes if s.texture is not None)
    return {
        "kind": "mesh",
        "tileset": "tileset.json",
        "counts": {"submeshes": len(submeshes), "vertices": int(sum(len(s.vertices) for s in submeshes)),
                   "triangles": int(sum(len(s.faces) for s in submeshes)), "textured_submeshes": textured,
                   "vertex_coloured_submeshes": sum(1 for s in submeshes if s.colors is not None),
                   "tiles": stats["tiles"], "levels": _depth(root)},
        "crs": {"crs": options.crs, "source": "user" if options.crs else None, "up_axis": "y" if y_up else "z"},
        "georeferencing": placement.report() | {"fast_transform_used": to_enu.uses_fit},
        "skipped": [],
        "footprint_wgs84": outline,
        "footprint_area_m2": area,
        "output_bytes": tileset_bytes + stats["bytes"],
        "timings": {"convert_s": round(time.perf_counter() - started, 3)},
    }


def _piece(sub: Submesh, to_enu: FastToEnu) -> Piece:
    return Piece(to_enu(sub.vertices), sub.faces, sub.uv, sub.colors, sub.texture, sub.rgba)


def _write(node: LodNode, out_dir: Path, name: str, stats: dict[str, int]) -> Tile:
    volume, size = write_scan_glb(node.pieces, out_dir / f"{name}.glb")
    stats["tiles"] += 1
    stats["bytes"] += size
    children = [_write(child, out_dir, f"{name}_{i}", stats) for i, child in enumerate(node.children)]
    lo, hi = volume.bounds()
    for child in children:
        c_lo, c_hi = child.bounding_volume.bounds()
        lo, hi = np.minimum(lo, c_lo), np.maximum(hi, c_hi)
    return Tile(BoundingVolume.from_bounds(lo, hi, pad=0.005), node.geometric_error, Content(f"{name}.glb", volume),
                children)


def _depth(node: LodNode) -> int:
    return 1 + max((_depth(c) for c in node.children), default=0)


def _outline(pieces: list[Piece], frame: LocalFrame) -> tuple[dict[str, Any] | None, float]:
    positions = np.concatenate([p.positions for p in pieces])
    lo, hi = positions.min(axis=0), positions.max(axis=0)
    size = max(float((hi - lo).max()) * 1.001, 0.01)
    occupancy = Occupancy(Cube(np.array([lo[0], lo[1], lo[2]]), size))
    occupancy.add(positions)
    return occupancy.outline(frame)

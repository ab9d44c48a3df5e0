"""A zipped OSGB delivery (oblique photogrammetry) → georeferenced 3D Tiles 1.1, level for level.

Layout read: ``metadata.xml`` (SRS and SRS origin) beside a ``Data`` folder of blocks
``Data/Tile_x_y/Tile_x_y.osgb`` whose PagedLODs name finer files. Every OSGB file becomes one tile
(its inline geometry the content, the files it names its children, refine REPLACE, the geometric
error from the PagedLOD ranges: :mod:`converters.oblique.tile_file`). Files are converted in waves
(roots, then the files they name, …) by a pool of forked workers, ``options.jobs`` of them; only
small per-file summaries come back, so memory stays flat whatever the delivery's size. Each block is
an external tileset under ``t/<block>/``; the entry tileset carries the ENU→ECEF transform.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from shapely import unary_union
from shapely.geometry import Polygon, mapping

from converters.archive import cleanup, extract_zip
from converters.errors import ConversionError
from converters.oblique.metadata import Georeference, read_metadata
from converters.oblique.tile_file import FileResult, convert_file
from converters.options import ConvertOptions
from converters.process_guard import die_with_parent
from converters.sniff import find_delivery
from tiles.tileset import BoundingVolume, Content, Tile, Tileset

TASK_TIMEOUT_S = 900.0
BLOCK_DIR = "t"


def block_roots(data_dir: Path) -> list[str]:
    roots = []
    for block in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        candidate = block / f"{block.name}.osgb"
        if candidate.is_file():
            roots.append(f"{block.name}/{candidate.name}")
    return roots


_PARENT = 0


def _start_worker() -> None:
    die_with_parent(_PARENT)


def _waves(data_dir: Path, out_dir: Path, georef: Georeference, roots: list[str], jobs: int,
           options: ConvertOptions, total: int) -> Iterator[FileResult]:
    global _PARENT
    spec = (georef.srs, georef.origin, georef.enu_origin)
    task = partial(convert_file, data_dir, out_dir=out_dir, georef=spec)
    seen, pending, done = set(roots), list(roots), 0
    _PARENT = os.getpid()
    context = multiprocessing.get_context("fork")
    pool = context.Pool(jobs, initializer=_start_worker)
    try:
        while pending:
            wave, pending = pending, []
            answers = pool.imap_unordered(task, wave)
            for _ in wave:
                try:
                    result = answers.next(timeout=TASK_TIMEOUT_S)
                except multiprocessing.TimeoutError as error:
                    raise RuntimeError(f"an OSGB worker gave no answer for {TASK_TIMEOUT_S:.0f} s") from error
                done += 1
                for child in result.children:
                    if child not in seen:
                        seen.add(child)
                        pending.append(child)
                if done % 10 == 0 or done == total:
                    options.report_progress(0.05 + 0.85 * done / max(total, done), f"{done} of {total} OSGB files")
                yield result
        pool.close()  # all answered: let the workers end on their own (terminate can hang on the queue lock)
        pool.join()
    finally:
        pool.terminate()


def _tile(path: str, results: dict[str, FileResult], depth: int = 0) -> Tile | None:
    result = results.get(path)
    if result is None or depth > 64:
        return None
    children = [t for c in result.children if (t := _tile(c, results, depth + 1)) is not None]
    bounds = [(np.array(result.lo), np.array(result.hi))] if result.lo is not None and result.hi is not None else []
    bounds += [child.bounding_volume.bounds() for child in children]
    if not bounds:
        return None
    lo = np.min([b[0] for b in bounds], axis=0)
    hi = np.max([b[1] for b in bounds], axis=0)
    error = max([result.error if children else 0.0] + [c.geometric_error for c in children])
    content = None
    if result.content is not None and result.lo is not None and result.hi is not None:
        content = Content(result.content, BoundingVolume.from_bounds(np.array(result.lo), np.array(result.hi)))
    return Tile(BoundingVolume.from_bounds(lo, hi, pad=0.01), error, content, children)


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    started = time.perf_counter()
    source = out_dir / ".source"
    try:
        names = extract_zip(input_path, source)
        metadata_path, data_rel = find_delivery(names, input_path.name)
        georef = read_metadata((source / metadata_path).read_bytes())
        data_dir = source / data_rel
        roots = block_roots(data_dir)
        if not roots:
            raise ConversionError(f"{input_path.name}: no Data/Tile_x/Tile_x.osgb block roots")
        total = sum(1 for _ in data_dir.rglob("*.osgb"))
        options.report_progress(0.05, f"{total} OSGB files in {len(roots)} blocks")
        jobs = max(1, min(options.jobs or os.cpu_count() or 1, total))
        results: dict[str, FileResult] = {}
        convert_started = time.perf_counter()
        for result in _waves(data_dir, out_dir, georef, roots, jobs, options, total):
            results[result.path] = result
        convert_s = time.perf_counter() - convert_started
    finally:
        cleanup(source)
    return _write(input_path, out_dir, options, georef, roots, results, started, convert_s, jobs)


def _write(input_path: Path, out_dir: Path, options: ConvertOptions, georef: Georeference, roots: list[str],
           results: dict[str, FileResult], started: float, convert_s: float, jobs: int) -> dict[str, Any]:
    blocks: list[Tile] = []
    for root_file in roots:
        tile = _tile(root_file, results)
        if tile is None:
            continue
        tile.refine = "REPLACE"
        block = PurePosixPath(root_file).parent.name
        name = f"{BLOCK_DIR}/{block}/tileset.json"
        relative = Tileset(root=_rebase(tile, f"{BLOCK_DIR}/{block}/"), geometric_error=tile.geometric_error * 2 + 1,
                           extras={"block": block})
        relative.write(out_dir / name)
        blocks.append(Tile(tile.bounding_volume, tile.geometric_error * 2 + 1, Content(name)))
    if not blocks:
        raise ConversionError(f"{input_path.name}: the delivery holds no triangles")
    lo = np.min([b.bounding_volume.bounds()[0] for b in blocks], axis=0)
    hi = np.max([b.bounding_volume.bounds()[1] for b in blocks], axis=0)
    diagonal = float(np.linalg.norm(hi - lo))
    root = Tile(BoundingVolume.from_bounds(lo, hi, pad=0.01), max(diagonal, max(b.geometric_error for b in blocks)),
                None, blocks, refine="REPLACE", transform=georef.frame.tileset_transform())
    tileset_bytes = Tileset(root=root, geometric_error=root.geometric_error * 2,
                            extras={"source": input_path.name, "srs": georef.srs}).write(out_dir / "tileset.json")
    hulls = [Polygon(r.hull) for r in results.values() if r.hull and len(r.hull) >= 4]
    footprint = None
    if hulls:  # neighbouring tiles' hulls leave slivers between them: close them (~0.2 m), then simplify
        footprint = unary_union([h.buffer(2e-6) for h in hulls]).buffer(-2e-6).simplify(1e-7, preserve_topology=True)
    files = len(results)
    bytes_in = sum(r.bytes_in for r in results.values())
    options.report_progress(1.0, "done")
    return {
        "kind": "oblique",
        "tileset": "tileset.json",
        "crs": {"crs": georef.srs, "source": "metadata.xml"},
        "georeferencing": georef.report(),
        "counts": {"osgb_files": files, "blocks": len(blocks), "tiles": sum(1 for r in results.values() if r.content),
                   "triangles": sum(r.triangles for r in results.values()),
                   "vertices": sum(r.vertices for r in results.values()),
                   "textures": sum(r.textures for r in results.values()), "levels": _levels(roots, results)},
        "missing_files": sorted({m for r in results.values() for m in r.missing})[:100],
        "skipped": sorted({s for r in results.values() for s in r.skipped}),
        "geometric_error_rule": "PIXEL_SIZE_ON_SCREEN X px: 32·r/X; DISTANCE_FROM_EYE_POINT D m: 16·D/935",
        "footprint_wgs84": mapping(footprint) if footprint is not None and not footprint.is_empty else None,
        "output_bytes": tileset_bytes + sum(r.bytes_out for r in results.values()),
        "throughput": {"workers": jobs, "files_per_s": round(files / max(convert_s, 1e-9), 2),
                       "input_mb_per_s": round(bytes_in / 1e6 / max(convert_s, 1e-9), 3)},
        "timings": {"tiles_s": round(convert_s, 3), "convert_s": round(time.perf_counter() - started, 3)},
    }


def _rebase(tile: Tile, prefix: str) -> Tile:
    """Content URIs relative to the block's tileset (``t/<block>/``)."""
    for each in tile.walk():
        if each.content is not None and each.content.uri.startswith(prefix):
            each.content.uri = each.content.uri[len(prefix):]
    return tile


def _levels(roots: list[str], results: dict[str, FileResult]) -> int:
    def depth(path: str, level: int) -> int:
        result = results.get(path)
        if result is None or level > 64:
            return level
        return max([level + 1] + [depth(c, level + 1) for c in result.children])

    return max((depth(r, 0) for r in roots), default=0)

"""One OSGB file → one glb content: ``osgconv`` writes the file as ``.osgt`` (images included as pixel
data), :mod:`converters.oblique.osgt` reads it, vertices go through the delivery's georeferencing to
local ENU, textures become JPEG, and the PagedLOD ranges give the tile's geometric error.

Geometric error from a PagedLOD range (3D Tiles refines at a screen-space error of 16 px):
``PIXEL_SIZE_ON_SCREEN`` switches to the finer file when the bounding sphere's projected diameter
reaches X px, so the coarse level's error is ``16 · 2r / X``; ``DISTANCE_FROM_EYE_POINT`` switches at a
distance D, which a 1080-pixel-high view with a 60° field of view (935 px per radian-ish unit of
``height / (2 tan(fov/2))``) turns into ``16 · D / 935``.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import Polygon

from converters.errors import ConversionError
from converters.mesh.glb_writer import Piece, write_scan_glb
from converters.mesh.load import Texture
from converters.oblique.metadata import Georeference
from converters.oblique.osgt import OsgtError, PagedLevel, read_scene

MAX_SSE = 16.0
VIEW_PIXELS_PER_UNIT = 1080 / (2 * np.tan(np.radians(30)))
OSGCONV_TIMEOUT_S = 300
OSGCONV = os.environ.get("CIM_OSGCONV", "osgconv")


@dataclass(slots=True)
class FileResult:
    path: str  # relative to the Data folder, posix
    content: str | None = None  # the glb, relative to the output folder
    lo: list[float] | None = None
    hi: list[float] | None = None
    children: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: float = 0.0
    triangles: int = 0
    vertices: int = 0
    textures: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    hull: list[tuple[float, float]] | None = None
    skipped: list[str] = field(default_factory=list)


def run_osgconv(source: Path, relative: str) -> str:
    """The file as osgt text (raises ConversionError when OpenSceneGraph cannot read it)."""
    with tempfile.TemporaryDirectory(prefix="cim-osgt-") as tmp:
        target = Path(tmp) / "tile.osgt"
        said = Path(tmp) / "said.txt"
        env = {**os.environ, "OSG_OPTIMIZER": "OFF", "OSG_NOTIFY_LEVEL": "WARN"}
        try:
            with said.open("wb") as log:  # a damaged file can make osgconv print megabytes before it dies
                done = subprocess.run(
                    [OSGCONV, "-O", "WriteImageHint=IncludeData", str(source), str(target)],
                    stdout=log, stderr=log, env=env, timeout=OSGCONV_TIMEOUT_S, check=False,
                )
        except subprocess.TimeoutExpired as error:
            raise ConversionError(f"{relative}: OpenSceneGraph took over {OSGCONV_TIMEOUT_S} s to read it") from error
        except FileNotFoundError as error:
            raise RuntimeError("osgconv (Debian package openscenegraph) is not installed") from error
        if done.returncode != 0 or not target.is_file():
            with said.open("rb") as log:
                log.seek(max(0, said.stat().st_size - 4096))
                tail = log.read().decode("utf-8", "replace")
            tail = " ".join(tail.replace(str(source.parent), "").split())[-160:]
            crashed = " (it crashed)" if done.returncode < 0 else ""
            detail = f" ({tail})" if tail else ""
            raise ConversionError(f"{relative}: OpenSceneGraph cannot read this OSGB file{crashed}{detail}; "
                                  "the delivery is damaged, export it again")
        return target.read_text(encoding="latin-1")


@cache
def _georeference(srs: str, origin: tuple[float, float, float], enu: tuple[float, float] | None) -> Georeference:
    return Georeference(srs, origin, enu)


def _level_error(level: PagedLevel, radius: float) -> float:
    errors = []
    for (low, high), name in zip(level.ranges, level.files, strict=False):
        if not name:
            continue
        r = level.radius if level.radius > 0 else radius
        if level.range_mode == "PIXEL_SIZE_ON_SCREEN" and low > 0:
            errors.append(MAX_SSE * 2 * r / low)
        elif level.range_mode != "PIXEL_SIZE_ON_SCREEN" and 0 < high < 1e29:
            errors.append(MAX_SSE * high / VIEW_PIXELS_PER_UNIT)
    return max(errors, default=0.0)


def convert_file(data_dir: Path, relative: str, out_dir: Path,
                 georef: tuple[str, tuple[float, float, float], tuple[float, float] | None]) -> FileResult:
    source = data_dir / relative
    result = FileResult(relative, bytes_in=source.stat().st_size)
    try:
        scene = read_scene(run_osgconv(source, relative))
    except OsgtError as error:
        raise ConversionError(f"{relative}: the scene cannot be read ({error})") from error
    georeference = _georeference(*georef)
    pieces: list[Piece] = []
    for mesh in scene.meshes:
        enu = georeference.to_enu(mesh.positions)
        texture = Texture(mesh.texture, "image/jpeg") if mesh.texture is not None else None
        pieces.append(Piece(enu, mesh.faces, mesh.uv, None, texture))
        result.triangles += len(mesh.faces)
        result.vertices += len(mesh.positions)
        result.textures += texture is not None
    radius = 0.0
    if pieces:
        name = posixpath.splitext(f"t/{relative}")[0] + ".glb"
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        volume, result.bytes_out = write_scan_glb(pieces, path)
        lo, hi = volume.bounds()
        result.content, result.lo, result.hi = name, [float(v) for v in lo], [float(v) for v in hi]
        radius = float(np.linalg.norm(hi - lo)) / 2
    folder = posixpath.dirname(relative)
    for level in scene.paged:
        for name in level.files:
            if not name:
                continue
            child = posixpath.normpath(posixpath.join(folder, name.replace("\\", "/")))
            if child.startswith("../") or posixpath.isabs(child):
                raise ConversionError(f"{relative}: refers to {name!r} outside the Data folder")
            if (data_dir / child).is_file():
                result.children.append(child)
            else:
                result.missing.append(child)
        result.error = max(result.error, _level_error(level, radius))
    if pieces and not result.children:
        result.hull = _hull(georeference, np.concatenate([p.positions for p in pieces]))
    result.skipped = sorted(set(scene.skipped))
    return result


def _hull(georeference: Georeference, enu: NDArray[np.float64]) -> list[tuple[float, float]] | None:
    step = max(1, len(enu) // 20000)
    hull = shapely.convex_hull(shapely.multipoints(enu[::step, :2]))
    if not isinstance(hull, Polygon):
        return None
    corners = np.array(hull.exterior.coords)
    geodetic = georeference.frame.enu_to_geodetic(np.c_[corners, np.zeros(len(corners))])
    return [(float(lon), float(lat)) for lon, lat in geodetic[:, :2]]

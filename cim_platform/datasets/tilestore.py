"""Reading a converted tileset folder into rows: every file with its bytes, hash, geometric error and
the 2D extent (EPSG:4326) and height range of its bounding volume."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer
from shapely.geometry import MultiPoint, Polygon

from cim_platform.core.errors import InvalidInput

MEDIA_TYPES = {
    ".json": "application/json",
    ".glb": "model/gltf-binary",
    ".gltf": "model/gltf+json",
    ".subtree": "application/octet-stream",
    ".b3dm": "application/octet-stream",
    ".pnts": "application/octet-stream",
    ".i3dm": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".ktx2": "image/ktx2",
}
_ECEF_TO_WGS84 = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)


@dataclass
class StoredFile:
    """One file of a tileset folder; its bytes are read when stored (``read``), not kept in memory."""

    path: str
    source: Path
    media_type: str
    size: int
    geometric_error: float | None = None
    bounds_wkt: str | None = None
    min_height: float | None = None
    max_height: float | None = None

    def read(self) -> tuple[bytes, str]:
        data = self.source.read_bytes()
        return data, hashlib.sha256(data).hexdigest()


DEFAULT_MEDIA_TYPE = "application/octet-stream"


def media_type(path: str) -> str:
    return media_type_of_name(Path(path).name)


def media_type_of_name(name: str) -> str:
    """The media type of a file name (no folder): by its suffix, as ``Path.suffix`` reads it (none for
    ``.hidden`` or ``name.``); for callers that have the name already (the bare server's hot path)."""
    dot = name.rfind(".")
    suffix = name[dot:] if 0 < dot < len(name) - 1 else ""
    return MEDIA_TYPES.get(suffix.lower(), DEFAULT_MEDIA_TYPE)


def _matrix(values: list[float] | None) -> np.ndarray:
    return np.eye(4) if not values else np.array(values, dtype=np.float64).reshape(4, 4, order="F")


def _corners(volume: dict[str, Any], transform: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """lon/lat degrees (N×2) and heights of a bounding volume's corners (or region bounds)."""
    if "region" in volume:
        w, s, e, n, lo, hi = volume["region"]
        lonlat = np.degrees(np.array([[w, s], [e, s], [e, n], [w, n]]))
        return lonlat, np.array([lo, hi])
    if "box" in volume:
        b = np.array(volume["box"], dtype=np.float64)
        centre, axes = b[:3], b[3:].reshape(3, 3)
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
        local = centre + signs @ axes
    elif "sphere" in volume:
        c, r = np.array(volume["sphere"][:3]), float(volume["sphere"][3])
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
        local = c + signs * r
    else:
        raise InvalidInput("a bounding volume has neither region, box nor sphere")
    ecef = np.c_[local, np.ones(len(local))] @ transform.T
    lon, lat, h = _ECEF_TO_WGS84.transform(ecef[:, 0], ecef[:, 1], ecef[:, 2])
    return np.c_[lon, lat], np.asarray(h)


def _extent(volume: dict[str, Any], transform: np.ndarray) -> tuple[str, float, float]:
    lonlat, heights = _corners(volume, transform)
    hull = MultiPoint([tuple(p) for p in lonlat]).convex_hull
    if not isinstance(hull, Polygon):
        hull = hull.buffer(1e-7)
    return hull.wkt, float(np.min(heights)), float(np.max(heights))


def _walk(tile: dict[str, Any], parent: np.ndarray, found: dict[str, tuple[float, str, float, float]]) -> None:
    transform = parent @ _matrix(tile.get("transform"))
    contents = ([tile["content"]] if "content" in tile else []) + list(tile.get("contents", []))
    for content in contents:
        uri = content.get("uri")
        if uri and "{" not in uri:
            volume = content.get("boundingVolume") or tile["boundingVolume"]
            found[uri.split("?")[0]] = (float(tile.get("geometricError", 0.0)), *_extent(volume, transform))
    for child in tile.get("children", []):
        _walk(child, transform, found)


def _reachable(folder: Path, entry: str, entry_uris: Iterable[str]) -> set[str]:
    """The entry tileset and every file its tiles (``entry_uris``) reference, following external tilesets."""
    found: set[str] = {entry}
    pending = [(Path(entry).parent / uri).as_posix() for uri in entry_uris]
    while pending:
        relative = pending.pop()
        if relative in found:
            continue
        path = (folder / relative).resolve()
        if not path.is_file() or not path.is_relative_to(folder.resolve()):
            raise InvalidInput(f"the converter's tileset references {relative!r}, which it did not write")
        found.add(relative)
        if relative.endswith(".json"):
            tileset = json.loads(path.read_text(encoding="utf-8"))
            base = Path(relative).parent
            uris: dict[str, tuple[float, str, float, float]] = {}
            _walk(tileset["root"], np.eye(4), uris)
            pending.extend((base / uri).as_posix() for uri in uris)
    return found


def read_tileset_folder(folder: Path, entry: str = "tileset.json") -> tuple[dict[str, Any], list[StoredFile]]:
    """The entry tileset and the files it references (external tilesets' contents included); files a
    converter left beside them (work files, spills) are not stored."""
    tileset = json.loads((folder / entry).read_text(encoding="utf-8"))
    placed: dict[str, tuple[float, str, float, float]] = {}
    _walk(tileset["root"], np.eye(4), placed)
    files: list[StoredFile] = []
    for relative in sorted(_reachable(folder, entry, placed)):
        path = folder / relative
        stored = StoredFile(relative, path, media_type(relative), path.stat().st_size)
        if relative in placed:
            stored.geometric_error, stored.bounds_wkt, stored.min_height, stored.max_height = placed[relative]
        files.append(stored)
    return tileset, files


def root_extent(tileset: dict[str, Any]) -> tuple[str, float, float]:
    root = tileset["root"]
    return _extent(root["boundingVolume"], _matrix(root.get("transform")))


def origin_from_transform(values: list[float] | None) -> tuple[list[float], tuple[float, float, float]] | None:
    """ECEF origin and its lon/lat/height from a root transform."""
    if not values:
        return None
    m = _matrix(values)
    x, y, z = (float(v) for v in m[:3, 3])
    if abs(x) + abs(y) + abs(z) < 1.0:
        return None
    lon, lat, h = _ECEF_TO_WGS84.transform(x, y, z)
    return [x, y, z], (float(lon), float(lat), float(h))

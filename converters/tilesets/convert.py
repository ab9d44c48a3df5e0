"""An uploaded 3D Tiles tileset (zip) → a checked 3D Tiles 1.1 tileset with glb contents.

The archive is unpacked safely (:mod:`converters.archive`); the shallowest ``tileset.json`` is
the entry. Every tileset JSON is checked (:mod:`converters.tilesets.checks`), implicit tiling is
expanded (:mod:`converters.tilesets.implicit`), contents are read by their magic: glb 2.0 is kept,
b3dm/i3dm/pnts are upgraded (:mod:`converters.tilesets.upgrade`), a cmpt becomes one content per inner
tile (``contents``), external tilesets are converted in turn. Outputs go under ``c/`` with the
archive's relative paths; the footprint is the union of the leaf contents' volumes.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from numpy.typing import NDArray
from shapely import unary_union
from shapely.geometry import MultiPoint, Polygon, mapping

from converters.archive import cleanup, extract_zip
from converters.errors import ConversionError, GeoreferencingError
from converters.georef import ecef_to_geodetic
from converters.options import ConvertOptions
from converters.tilesets import implicit
from converters.tilesets.checks import check_tileset
from converters.tilesets.legacy import read_legacy, split_cmpt
from converters.tilesets.references import resolve
from converters.tilesets.upgrade import (
    Z_UP_TO_Y_UP,
    Upgraded,
    b3dm_to_glb,
    editable_glb,
    i3dm_to_glb,
    pnts_to_glb,
    wrap_scene,
)

OUTPUT_DIR = "c"
MAX_EXTERNAL_TILESETS = 10_000
DROPPED_EXTENSIONS = {"3DTILES_content_gltf", "3DTILES_implicit_tiling", "3DTILES_multiple_contents"}
EARTH_RADIUS_RANGE = (6.2e6, 6.5e6)


@dataclass
class Job:
    source_root: Path
    out_dir: Path
    options: ConvertOptions
    z_up: bool = False
    version: str = ""
    done: int = 0
    pending: int = 0
    names: set[str] = field(default_factory=set)
    formats: dict[str, int] = field(default_factory=dict)
    properties: set[str] = field(default_factory=set)
    features: int = 0
    skipped: list[str] = field(default_factory=list)
    hulls: list[Polygon] = field(default_factory=list)
    heights: list[float] = field(default_factory=list)
    tiles: int = 0
    implicit_roots: int = 0
    external: int = 0
    bytes_written: int = 0
    extensions: set[str] = field(default_factory=set)


def find_entry(names: list[str], archive: str) -> str:
    candidates = [n for n in names if PurePosixPath(n).name == "tileset.json"]
    if not candidates:
        raise ConversionError(f"{archive}: no tileset.json in the upload")
    shallowest = min(len(PurePosixPath(n).parts) for n in candidates)
    top = [n for n in candidates if len(PurePosixPath(n).parts) == shallowest]
    if len(top) > 1:
        raise ConversionError(f"{archive}: several tileset.json at the same depth ({', '.join(sorted(top)[:4])}); "
                              "upload one tileset at a time (one folder or one zip, with one tileset.json on top)")
    return top[0]


def _matrix(values: list[float] | None) -> NDArray[np.float64]:
    return np.eye(4) if not values else np.array(values, dtype=np.float64).reshape(4, 4, order="F")


class TilesetConverter:
    def __init__(self, job: Job) -> None:
        self.job = job

    # ------------------------------------------------------------------ files

    def resolve(self, base: PurePosixPath, uri: str) -> PurePosixPath:
        """The archive path of ``uri`` relative to the folder ``base``; refuses URLs and escapes."""
        return resolve(base, uri)

    def read(self, path: PurePosixPath) -> bytes:
        file = self.job.source_root / path
        if not file.is_file():
            raise ConversionError(f"{path}: referenced by the tileset but missing from the archive")
        return file.read_bytes()

    def output_name(self, source: PurePosixPath, suffix: str) -> str:
        stem = PurePosixPath(OUTPUT_DIR) / source.with_suffix("")
        name, n = f"{stem}{suffix}", 1
        while name.lower() in self.job.names:
            n += 1
            name = f"{stem}_{n}{suffix}"
        self.job.names.add(name.lower())
        return name

    def write(self, name: str, data: bytes) -> None:
        path = self.job.out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.job.bytes_written += len(data)

    # ------------------------------------------------------------------ tilesets

    def tileset(self, path: PurePosixPath, world: NDArray[np.float64], out_name: str, seen: tuple[str, ...]) -> None:
        if str(path) in seen:
            raise ConversionError(f"{path}: external tilesets form a cycle")
        self.job.external += 1
        if self.job.external > MAX_EXTERNAL_TILESETS:
            raise ConversionError(f"more than {MAX_EXTERNAL_TILESETS} external tilesets")
        try:
            document = json.loads(self.read(path))
        except (ValueError, UnicodeDecodeError) as error:
            raise ConversionError(f"{path}: not valid JSON ({error})") from error
        version = check_tileset(document, str(path))
        if not seen:
            self.job.z_up = str(document["asset"].get("gltfUpAxis", "Y")).upper() == "Z"
            self.job.version = version
        base = path.parent
        out_base = PurePosixPath(out_name).parent
        root = document["root"]
        root.setdefault("refine", "REPLACE")
        document["root"] = self.tile(root, base, out_base, world, (*seen, str(path)))
        asset = {k: v for k, v in document["asset"].items() if k != "gltfUpAxis"}
        asset["version"] = "1.1"
        asset["generator"] = f"cim-platform (from 3D Tiles {version}" + (f", {asset['generator']})"
                                                                         if "generator" in asset else ")")
        document["asset"] = asset
        used = {e for e in document.get("extensionsUsed", []) if e not in DROPPED_EXTENSIONS}
        used |= set(_extension_names(document["root"]))
        self.job.extensions |= used
        if used:
            document["extensionsUsed"] = sorted(used)
        else:
            document.pop("extensionsUsed", None)
        required = [e for e in document.get("extensionsRequired", []) if e in used]
        if required:
            document["extensionsRequired"] = required
        else:
            document.pop("extensionsRequired", None)
        self.write(out_name, json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))

    def tile(self, tile: dict[str, Any], base: PurePosixPath, out_base: PurePosixPath,
             parent: NDArray[np.float64], seen: tuple[str, ...]) -> dict[str, Any]:
        if "implicitTiling" in tile or "3DTILES_implicit_tiling" in tile.get("extensions", {}):
            spec = tile.pop("implicitTiling", None) or tile["extensions"].pop("3DTILES_implicit_tiling")
            tile = implicit.expand({**tile, "implicitTiling": spec}, lambda uri: self.read(self.resolve(base, uri)))
            self.job.implicit_roots += 1
        extensions = tile.get("extensions", {})
        for name in DROPPED_EXTENSIONS:
            extensions.pop(name, None)
        if not extensions:
            tile.pop("extensions", None)
        if isinstance(tile.get("refine"), str):
            tile["refine"] = tile["refine"].upper()
        self.job.tiles += 1
        world = parent @ _matrix(tile.get("transform"))
        contents = ([tile.pop("content")] if "content" in tile else []) + list(tile.pop("contents", []))
        self.job.pending += len(contents)
        converted: list[dict[str, Any]] = []
        for content in contents:
            converted.extend(self.content(content, base, out_base, world, seen))
            self.job.done += 1
            if self.job.done % 20 == 0:
                total = self.job.done + self.job.pending
                self.job.options.report_progress(0.05 + 0.9 * self.job.done / max(total, 1), "contents upgraded")
        self.job.pending -= len(contents)
        if len(converted) == 1:
            tile["content"] = converted[0]
        elif converted:
            tile["contents"] = converted
        children = tile.get("children", [])
        if converted and any(str(c["uri"]).endswith(".json") for c in converted):
            if children:
                raise ConversionError(f"{base}: a tile with an external tileset has children")
        tile["children"] = [self.tile(child, base, out_base, world, seen) for child in children]
        if not tile["children"]:
            tile.pop("children")
            for content in converted:
                if not str(content["uri"]).endswith(".json"):
                    self._footprint(content.get("boundingVolume") or tile["boundingVolume"], world)
        return tile

    def content(self, content: dict[str, Any], base: PurePosixPath, out_base: PurePosixPath,
                world: NDArray[np.float64], seen: tuple[str, ...]) -> list[dict[str, Any]]:
        uri = content.pop("uri", None) or content.pop("url")
        source = self.resolve(base, uri)
        data = self.read(source)
        magic = data[:4]
        extra = {k: v for k, v in content.items() if k in ("boundingVolume", "group", "metadata")}
        if source.suffix.lower() == ".json" or data.lstrip()[:1] == b"{":
            out_name = self.output_name(source, ".json")
            self.tileset(source, world, out_name, seen)
            return [{"uri": _relative(out_name, out_base), **extra}]
        pieces = split_cmpt(data, str(source)) if magic == b"cmpt" else [data]
        out: list[dict[str, Any]] = []
        for piece in pieces:
            upgraded = self.upgrade(piece, source, world)
            if upgraded is None:
                continue
            out_name = self.output_name(source, ".glb")
            self.write(out_name, upgraded.data)
            self.job.features += upgraded.features
            self.job.properties.update(upgraded.properties)
            self.job.skipped.extend(f"{source}: {s}" for s in upgraded.skipped[:20])
            out.append({"uri": _relative(out_name, out_base), **(extra if len(pieces) == 1 else {})})
        return out

    def upgrade(self, data: bytes, source: PurePosixPath, world: NDArray[np.float64]) -> Upgraded | None:
        magic = data[:4]
        kind = magic.decode("ascii", "replace") if magic in (b"b3dm", b"pnts", b"i3dm", b"glTF") else "other"
        self.job.formats[kind] = self.job.formats.get(kind, 0) + 1
        name = str(source)

        def sibling(uri: str) -> bytes:
            return self.read(self.resolve(source.parent, uri))

        if magic == b"glTF":
            builder, gltf, _ = editable_glb(data, name)  # a readable glb 2.0 (else a clear refusal)
            if not self.job.z_up:
                return Upgraded(data)
            wrap_scene(gltf, Z_UP_TO_Y_UP)  # 1.0 with gltfUpAxis Z: 1.1 glTF is y-up
            return Upgraded(builder.to_bytes())
        if magic == b"b3dm":
            return b3dm_to_glb(read_legacy(data, name), name, self.job.z_up, sibling)
        if magic == b"pnts":
            return pnts_to_glb(read_legacy(data, name), name)
        if magic == b"i3dm":
            return i3dm_to_glb(read_legacy(data, name), name, self.job.z_up, sibling, world)
        self.job.skipped.append(f"{name}: not a glb, b3dm, i3dm, pnts or cmpt content; left out")
        return None

    def _footprint(self, volume: dict[str, Any], world: NDArray[np.float64]) -> None:
        if "region" in volume:
            w, s, e, n, lo, hi = volume["region"]
            self.job.hulls.append(Polygon(np.degrees([[w, s], [e, s], [e, n], [w, n]])))
            self.job.heights += [lo, hi]
            return
        if "box" in volume:
            b = np.array(volume["box"], dtype=np.float64)
            signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
            local = b[:3] + signs @ b[3:].reshape(3, 3)
        else:
            s = np.array(volume["sphere"], dtype=np.float64)
            signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
            local = s[:3] + signs * s[3]
        ecef = (np.c_[local, np.ones(len(local))] @ world.T)[:, :3]
        radius = np.linalg.norm(ecef, axis=1)
        if not np.all((radius > EARTH_RADIUS_RANGE[0]) & (radius < EARTH_RADIUS_RANGE[1])):
            raise GeoreferencingError(
                "the tileset is not placed on the globe (its volumes are not near the Earth's surface): "
                "give the root tile a transform to ECEF, or bounding regions"
            )
        geodetic = ecef_to_geodetic(ecef)
        hull = MultiPoint([tuple(p) for p in geodetic[:, :2]]).convex_hull
        if isinstance(hull, Polygon):
            self.job.hulls.append(hull)
        self.job.heights += [float(geodetic[:, 2].min()), float(geodetic[:, 2].max())]


def _relative(name: str, out_base: PurePosixPath) -> str:
    return PurePosixPath(os.path.relpath(name, out_base.as_posix() or ".")).as_posix()


def _extension_names(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "extensions" and isinstance(value, dict):
                found.extend(value)
            found.extend(_extension_names(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_extension_names(value))
    return found


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    started = time.perf_counter()
    source_root = out_dir / ".source"
    try:
        names = extract_zip(input_path, source_root)
        options.report_progress(0.05, "archive unpacked")
        entry = PurePosixPath(find_entry(names, input_path.name))
        job = Job(source_root, out_dir, options)
        converter = TilesetConverter(job)
        root_name = "tileset.json"
        # the entry is written last under its own name; its contents keep their archive paths under c/
        job.names.add(root_name)
        converter.tileset(entry, np.eye(4), root_name, ())
    finally:
        cleanup(source_root)
    if not job.hulls:
        raise ConversionError(f"{input_path.name}: the tileset has no content")
    footprint = unary_union(job.hulls).buffer(0).simplify(1e-6, preserve_topology=True)
    options.report_progress(1.0, "done")
    return {
        "kind": "tileset",
        "tileset": root_name,
        "source_tileset": {"entry": str(entry), "version": job.version,
                           "gltf_up_axis": "Z" if job.z_up else "Y"},
        "counts": {"tiles": job.tiles, "contents_in": job.formats, "implicit_roots_expanded": job.implicit_roots,
                   "tilesets": job.external, "features": job.features},
        "properties": sorted(job.properties),
        "crs": {"crs": "EPSG:4978", "source": "tileset"},
        "georeferencing": {"source": "tileset", "mode": "tileset"},
        "upgraded_to": "3D Tiles 1.1 (glb contents)",
        "skipped": job.skipped[:200],
        "footprint_wgs84": mapping(footprint) if not footprint.is_empty else None,
        "height_range_m": [min(job.heights), max(job.heights)] if job.heights else None,
        "output_bytes": job.bytes_written,
        "timings": {"convert_s": round(time.perf_counter() - started, 3)},
    }


__all__ = ["convert", "find_entry"]

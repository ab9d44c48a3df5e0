"""Validators for tests: Khronos glTF validator on glb files, 3D Tiles 1.1 schema + rules on tilesets.

Stable API::

    validate_glb(path_or_bytes) -> dict            # the Khronos report summary (numErrors, errors, ...)
    validate_glbs(paths) -> list[dict]             # many files, one node process
    assert_glb_valid(path_or_bytes_or_paths)       # AssertionError listing errors unless 0 errors, also of
                                                   # the EXT_structural_metadata / EXT_mesh_features layout
                                                   # checks (tests/support/structural_metadata.py)
    validate_tileset(tileset_dict, base_dir) -> list[str]   # schema + non-schema rule violations
    assert_tileset_valid(tileset_dict, base_dir)
    assert_output_valid(out_dir, tileset_name="tileset.json") -> dict
        # tileset.json (and external tilesets) valid, every glb it references 0 validator errors

Schemas come from ``../shared/specs/3d-tiles-1.1-schema`` relative to the repository root, or
from ``$CIM_SPECS_DIR/3d-tiles-1.1-schema``.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support.structural_metadata import layout_errors

REPO_ROOT = Path(__file__).resolve().parents[2]
GLTF_SCRIPT = Path(__file__).with_name("gltf_validate.mjs")
TOLERANCE_M = 0.01


def specs_dir() -> Path:
    override = os.environ.get("CIM_SPECS_DIR")
    return Path(override) if override else REPO_ROOT.parent / "shared" / "specs"


# ---------------------------------------------------------------- glTF


def validate_glbs(paths: Iterable[Path | str]) -> list[dict[str, Any]]:
    """Run the Khronos glTF validator on every file (one node process); one summary per file."""
    files = [str(Path(p).resolve()) for p in paths]
    if not files:
        return []
    env = dict(os.environ, CIM_NODE_MODULES=str(REPO_ROOT / "node_modules"))
    done = subprocess.run(
        ["node", str(GLTF_SCRIPT)], input=json.dumps(files), capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"gltf validator failed: {done.stderr.strip()[:2000]}")
    return json.loads(done.stdout)


def validate_glb(path_or_bytes: Path | str | bytes) -> dict[str, Any]:
    if isinstance(path_or_bytes, bytes | bytearray):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "content.glb"
            path.write_bytes(path_or_bytes)
            return validate_glbs([path])[0]
    return validate_glbs([path_or_bytes])[0]


def assert_glb_valid(target: Path | str | bytes | Iterable[Path | str]) -> list[dict[str, Any]]:
    """Khronos validator errors and metadata layout errors of one glb (path or bytes) or many (paths)."""
    if isinstance(target, bytes | bytearray | str | Path):
        reports = [validate_glb(target)]
        contents = [bytes(target) if isinstance(target, bytes | bytearray) else Path(target).read_bytes()]
    else:
        files = list(target)
        reports = validate_glbs(files)
        contents = [Path(f).read_bytes() for f in files]
    bad = [r for r in reports if r["numErrors"]]
    assert not bad, json.dumps([{"path": r["path"], "errors": r["errors"]} for r in bad], indent=1)[:4000]
    layout = [(r["path"], errors) for r, data in zip(reports, contents, strict=True) if (errors := layout_errors(data))]
    assert not layout, json.dumps([{"path": p, "errors": e[:20]} for p, e in layout], indent=1)[:4000]
    return reports


# ---------------------------------------------------------------- tileset schema


@cache
def _tileset_validator() -> Draft202012Validator:
    folder = specs_dir() / "3d-tiles-1.1-schema"
    if not (folder / "tileset.schema.json").is_file():
        raise FileNotFoundError(f"3D Tiles schemas not found in {folder} (set CIM_SPECS_DIR)")
    registry: Registry = Registry()
    root: dict[str, Any] = {}
    for file in folder.rglob("*.schema.json"):
        contents = json.loads(file.read_text(encoding="utf-8"))
        uri = file.resolve().as_uri()
        contents = {**contents, "$id": uri}  # ids in the folder are bare names; use the file's URI
        registry = registry.with_resource(uri, Resource.from_contents(contents, DRAFT202012))
        if file.name == "tileset.schema.json" and file.parent == folder:
            root = contents
    return Draft202012Validator(root, registry=registry)


def schema_errors(tileset: dict[str, Any]) -> list[str]:
    errors = sorted(_tileset_validator().iter_errors(tileset), key=lambda e: list(e.absolute_path))
    return [f"schema: /{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}" for e in errors]


# ---------------------------------------------------------------- rules a schema cannot express


def _matrix(transform: list[float] | None) -> np.ndarray:
    return np.eye(4) if transform is None else np.array(transform, dtype=np.float64).reshape(4, 4, order="F")


def _points(volume: dict[str, Any], to_world: np.ndarray) -> np.ndarray | None:
    """Sample points (corners / sphere extremes) of a box or sphere in world coordinates."""
    if "box" in volume:
        b = np.array(volume["box"], dtype=np.float64)
        signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=np.float64)
        local = b[:3] + signs @ np.stack([b[3:6], b[6:9], b[9:12]])
    elif "sphere" in volume:
        s = np.array(volume["sphere"], dtype=np.float64)
        dirs = np.array([[x, y, z] for x in (-1, 0, 1) for y in (-1, 0, 1) for z in (-1, 0, 1) if x or y or z], float)
        local = s[:3] + s[3] * dirs / np.linalg.norm(dirs, axis=1)[:, None]
    else:
        return None
    return (np.c_[local, np.ones(len(local))] @ to_world.T)[:, :3]


def _inside(points: np.ndarray, volume: dict[str, Any], to_world: np.ndarray) -> bool:
    if "region" in volume:
        from pyproj import Transformer

        lon, lat, h = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True).transform(
            points[:, 0], points[:, 1], points[:, 2], radians=True
        )
        w, s, e, n, lo, hi = volume["region"]
        eps = 1e-7
        return bool(
            np.all((lon >= w - eps) & (lon <= e + eps) & (lat >= s - eps) & (lat <= n + eps))
            and np.all((h >= lo - TOLERANCE_M) & (h <= hi + TOLERANCE_M))
        )
    local = (np.c_[points, np.ones(len(points))] @ np.linalg.inv(to_world).T)[:, :3]
    if "sphere" in volume:
        s = np.array(volume["sphere"], dtype=np.float64)
        return bool(np.all(np.linalg.norm(local - s[:3], axis=1) <= s[3] * (1 + 1e-6) + TOLERANCE_M))
    b = np.array(volume["box"], dtype=np.float64)
    axes = np.stack([b[3:6], b[6:9], b[9:12]], axis=1)
    lengths = np.linalg.norm(axes, axis=0)
    if np.any(lengths == 0):
        return False
    coefficients = np.linalg.lstsq(axes, (local - b[:3]).T, rcond=None)[0].T
    return bool(np.all(np.abs(coefficients) <= 1 + TOLERANCE_M / lengths))


def _contained(inner: dict[str, Any], inner_world: np.ndarray, outer: dict[str, Any], outer_world: np.ndarray) -> bool:
    if "region" in inner:
        if "region" in outer:
            a, b = inner["region"], outer["region"]
            eps = 1e-9
            return (
                a[0] >= b[0] - eps
                and a[1] >= b[1] - eps
                and a[2] <= b[2] + eps
                and a[3] <= b[3] + eps
                and a[4] >= b[4] - TOLERANCE_M
                and a[5] <= b[5] + TOLERANCE_M
            )
        return True  # region inside a box: not checked
    points = _points(inner, inner_world)
    return points is None or _inside(points, outer, outer_world)


def _walk(
    tile: dict[str, Any], parent_world: np.ndarray, path: str
) -> Iterator[tuple[dict[str, Any], np.ndarray, str]]:
    world = parent_world @ _matrix(tile.get("transform"))
    yield tile, world, path
    for i, child in enumerate(tile.get("children", [])):
        yield from _walk(child, world, f"{path}/children/{i}")


def _extension_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "extensions" and isinstance(value, dict):
                yield from value
            yield from _extension_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _extension_names(value)


def rule_errors(tileset: dict[str, Any], base_dir: Path | str) -> list[str]:
    errors: list[str] = []
    root = tileset.get("root", {})
    if root.get("refine") not in ("ADD", "REPLACE"):
        errors.append("rule: root tile has no refine (ADD or REPLACE)")
    if "geometricError" in tileset and "geometricError" in root and root["geometricError"] > tileset["geometricError"]:
        errors.append("rule: root geometricError larger than the tileset's")
    used = set(tileset.get("extensionsUsed", []))
    for name in set(_extension_names(tileset)) - used:
        errors.append(f"rule: extension {name} used but not in extensionsUsed")
    for name in set(tileset.get("extensionsRequired", [])) - used:
        errors.append(f"rule: extensionsRequired {name} not in extensionsUsed")
    base = Path(base_dir)
    parents: dict[int, tuple[dict[str, Any], np.ndarray]] = {}
    for tile, world, path in _walk(root, np.eye(4), "/root"):
        transform = tile.get("transform")
        if transform is not None:
            m = _matrix(transform)
            if len(transform) != 16 or not np.allclose(m[3], [0, 0, 0, 1]) or abs(np.linalg.det(m[:3, :3])) < 1e-12:
                errors.append(f"rule: {path}: transform is not an affine column-major matrix")
        if "geometricError" not in tile:
            errors.append(f"rule: {path}: no geometricError")
        for child in tile.get("children", []):
            parents[id(child)] = (tile, world)
        if id(tile) in parents:
            parent, parent_world = parents[id(tile)]
            if tile.get("geometricError", 0) > parent.get("geometricError", 0) + 1e-9:
                errors.append(f"rule: {path}: geometricError larger than its parent's")
            if not _contained(tile["boundingVolume"], world, parent["boundingVolume"], parent_world):
                errors.append(f"rule: {path}: boundingVolume not inside the parent's")
        contents = ([tile["content"]] if "content" in tile else []) + tile.get("contents", [])
        for content in contents:
            volume = content.get("boundingVolume")
            if volume is not None and not _contained(volume, world, tile["boundingVolume"], world):
                errors.append(f"rule: {path}: content boundingVolume not inside the tile's")
            uri = content.get("uri", "")
            if uri.lower().split("?")[0].endswith(".json") and tile.get("children"):
                errors.append(f"rule: {path}: a tile with an external tileset has children")
            if "://" not in uri and "{" not in uri and not (base / uri).is_file():
                errors.append(f"rule: {path}: content {uri} does not exist")
    return errors


def validate_tileset(tileset: dict[str, Any], base_dir: Path | str) -> list[str]:
    """All problems found (schema and rules); an empty list means valid."""
    return schema_errors(tileset) + rule_errors(tileset, base_dir)


def assert_tileset_valid(tileset: dict[str, Any], base_dir: Path | str) -> None:
    problems = validate_tileset(tileset, base_dir)
    assert not problems, "\n".join(problems[:50])


def _content_files(tileset: dict[str, Any], base: Path) -> Iterator[Path]:
    for tile, _world, _path in _walk(tileset["root"], np.eye(4), "/root"):
        for content in ([tile["content"]] if "content" in tile else []) + tile.get("contents", []):
            uri = content.get("uri", "")
            if "://" not in uri and "{" not in uri:
                yield base / uri


def assert_output_valid(out_dir: Path | str, tileset_name: str = "tileset.json") -> dict[str, Any]:
    """Validate a tileset (following external tilesets, no cycles) and every glb it references."""
    out_dir = Path(out_dir)
    pending, seen, glbs = [out_dir / tileset_name], set(), []
    entry: dict[str, Any] = {}
    while pending:
        path = pending.pop().resolve()
        assert path not in seen, f"external tileset cycle through {path}"
        seen.add(path)
        tileset = json.loads(path.read_text(encoding="utf-8"))
        entry = entry or tileset
        assert_tileset_valid(tileset, path.parent)
        for file in _content_files(tileset, path.parent):
            (pending if file.suffix.lower() == ".json" else glbs).append(file)
    if glbs:
        assert_glb_valid(glbs)
    return entry

"""3D Tiles 1.0 contents → 1.1 glb: b3dm (batch table → ``EXT_structural_metadata``, ``_BATCHID`` →
``_FEATURE_ID_0`` with ``EXT_mesh_features``, ``RTC_CENTER`` → a root node translation), pnts (glTF
points with property attributes), i3dm (``EXT_mesh_gpu_instancing`` + ``EXT_instance_features``).

Contents of a 1.0 tileset are y-up glTF unless the tileset's ``asset.gltfUpAxis`` says ``Z``; the
written glb is always y-up, so a 1.1 runtime's y-up → z-up rotation puts every vertex where a 1.0
runtime did.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.errors import ConversionError
from converters.tilesets.legacy import Legacy, batch_columns
from tiles.glb import GlbBuilder, read_accessor, read_glb
from tiles.instancing import ENU_TO_YUP, INSTANCE_FEATURES, INSTANCING, trs
from tiles.metadata import MESH_FEATURES, StructuralMetadata, feature_id_attribute, mesh_features
from tiles.points import write_points_glb

Z_UP_TO_Y_UP = ENU_TO_YUP  # (x, y, z) z-up → (x, z, -y) y-up
Y_UP_TO_Z_UP = np.linalg.inv(ENU_TO_YUP)
CLASS_NAME = "feature"


@dataclass(slots=True)
class Upgraded:
    data: bytes
    features: int = 0
    properties: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _column_major(matrix: NDArray[np.float64]) -> list[float]:
    return [float(v) for v in matrix.flatten(order="F")]


def editable_glb(glb: bytes, name: str) -> tuple[GlbBuilder, dict[str, Any], bytes]:
    """A builder holding an existing glb 2.0 (its binary chunk stays buffer 0), its JSON and binary."""
    if glb[:4] != b"glTF" or len(glb) < 20:
        raise ConversionError(f"{name}: the embedded model is not a glb")
    version = struct.unpack_from("<I", glb, 4)[0]
    if version != 2:
        raise ConversionError(f"{name}: the model inside is glTF {version}.0; only glTF 2.0 contents can be upgraded "
                              "(re-export the tileset with glTF 2.0)")
    try:
        gltf, binary = read_glb(glb)
    except (ValueError, struct.error) as error:
        raise ConversionError(f"{name}: the embedded glb cannot be read ({error})") from error
    buffers = gltf.pop("buffers", [])
    if len(buffers) > 1 or any("uri" in b for b in buffers):
        raise ConversionError(f"{name}: the model refers to external buffers; embed them (glb) and upload again")
    builder = GlbBuilder()
    if binary:
        builder.add_buffer_view(binary)  # the old chunk at offset 0; its dummy view is dropped next
    builder.gltf = gltf
    for extension in gltf.pop("extensionsUsed", []):
        if extension != "CESIUM_RTC":  # folded into a node translation
            builder.use_extension(extension)
    for extension in gltf.pop("extensionsRequired", []):
        if extension != "CESIUM_RTC":
            builder.use_extension(extension, required=True)
    return builder, gltf, binary


def _embed_external_images(builder: GlbBuilder, gltf: dict[str, Any], read: Callable[[str], bytes]) -> None:
    for image in gltf.get("images", []):
        uri = image.get("uri")
        if uri and not uri.startswith("data:"):
            data = read(uri)
            image.pop("uri")
            image["bufferView"] = builder.add_buffer_view(data)
            image.setdefault("mimeType", "image/png" if data[:4] == b"\x89PNG" else "image/jpeg")


def wrap_scene(gltf: dict[str, Any], matrix: NDArray[np.float64]) -> None:
    if np.allclose(matrix, np.eye(4)):
        return
    nodes = gltf.setdefault("nodes", [])
    scenes = gltf.setdefault("scenes", [{"nodes": []}])
    for scene in scenes:
        nodes.append({"name": "rtc", "children": list(scene.get("nodes", [])), "matrix": _column_major(matrix)})
        scene["nodes"] = [len(nodes) - 1]
    gltf.setdefault("scene", 0)


def _property_table(builder: GlbBuilder, legacy: Legacy, count: int, upgraded: Upgraded) -> int | None:
    if count <= 0:
        return None
    columns, skipped = batch_columns(legacy.batch, count)
    upgraded.skipped.extend(skipped)
    if not columns:
        return None
    metadata = StructuralMetadata(builder, schema_id="tileset_batch")
    table = metadata.add_property_table(CLASS_NAME, columns)
    metadata.finish()
    upgraded.properties = list(columns)
    return table


def _rtc(legacy: Legacy) -> NDArray[np.float64]:
    rtc = legacy.features.array("RTC_CENTER", "FLOAT", 3, 1)
    return np.zeros(3) if rtc is None else np.asarray(rtc[0], dtype=np.float64)


def _translation(vector: NDArray[np.float64]) -> NDArray[np.float64]:
    m = np.eye(4)
    m[:3, 3] = vector
    return m


def b3dm_to_glb(legacy: Legacy, name: str, z_up: bool, read: Callable[[str], bytes]) -> Upgraded:
    builder, gltf, binary = editable_glb(legacy.body, name)
    _embed_external_images(builder, gltf, read)
    count = int(legacy.features.json.get("BATCH_LENGTH", 0) or 0)
    upgraded = Upgraded(b"", count)
    table = _property_table(builder, legacy, count, upgraded)
    rtc = _rtc(legacy)
    cesium_rtc = gltf.get("extensions", {}).pop("CESIUM_RTC", None)
    if cesium_rtc is not None:
        rtc = rtc + np.asarray(cesium_rtc.get("center", [0, 0, 0]), dtype=np.float64)
        if not gltf.get("extensions"):
            gltf.pop("extensions", None)
    to_yup = Z_UP_TO_Y_UP @ _translation(rtc) @ (np.eye(4) if z_up else Y_UP_TO_Z_UP)
    wrap_scene(gltf, to_yup)
    used_features = _feature_ids(builder, gltf, binary, count, table)
    if used_features:
        builder.use_extension(MESH_FEATURES)
    upgraded.data = builder.to_bytes()
    return upgraded


def _feature_ids(builder: GlbBuilder, gltf: dict[str, Any], binary: bytes, count: int, table: int | None) -> bool:
    """``_BATCHID`` attributes become ``_FEATURE_ID_0`` declared by ``EXT_mesh_features``."""
    used = False
    for mesh in gltf.get("meshes", []):
        for primitive in mesh.get("primitives", []):
            attributes = primitive.get("attributes", {})
            key = next((k for k in ("_BATCHID", "BATCHID", "_BATCH_ID") if k in attributes), None)
            if key is None:
                continue
            index = attributes.pop(key)
            accessor = gltf["accessors"][index]
            if "bufferView" in accessor:
                ids = read_accessor(gltf, binary, index)
                distinct = len(np.unique(ids))
                if accessor["componentType"] not in (5121, 5123, 5126) or accessor.get("normalized"):
                    index = feature_id_attribute(builder, ids.astype(np.int64))
                fits = bool(ids.size == 0 or float(ids.max()) < count)
            else:  # compressed (Draco): the ids stay inside the compressed stream
                distinct, fits = max(1, count), True
                draco = primitive.get("extensions", {}).get("KHR_draco_mesh_compression", {}).get("attributes", {})
                if key in draco:
                    draco["_FEATURE_ID_0"] = draco.pop(key)
            attributes["_FEATURE_ID_0"] = index
            entry = mesh_features(distinct, 0, table if fits else None, CLASS_NAME)
            primitive.setdefault("extensions", {})[MESH_FEATURES] = entry
            used = True
    return used


def _colours(features: Any, count: int) -> NDArray[np.uint8] | None:
    rgba = features.array("RGBA", "UNSIGNED_BYTE", 4, count)
    if rgba is not None:
        return np.asarray(rgba, dtype=np.uint8)
    rgb = features.array("RGB", "UNSIGNED_BYTE", 3, count)
    if rgb is not None:
        return np.asarray(rgb, dtype=np.uint8)
    packed = features.array("RGB565", "UNSIGNED_SHORT", 1, count)
    if packed is not None:
        v = packed[:, 0].astype(np.uint32)
        r, g, b = (v >> 11) & 31, (v >> 5) & 63, v & 31
        return np.stack([r * 255 // 31, g * 255 // 63, b * 255 // 31], axis=1).astype(np.uint8)
    constant = features.json.get("CONSTANT_RGBA")
    if isinstance(constant, list) and len(constant) == 4:
        return np.tile(np.asarray(constant, dtype=np.uint8), (count, 1))
    return None


def _positions(legacy: Legacy, count: int, name: str) -> NDArray[np.float64]:
    features = legacy.features
    positions = features.array("POSITION", "FLOAT", 3, count)
    if positions is None:
        quantized = features.array("POSITION_QUANTIZED", "UNSIGNED_SHORT", 3, count)
        offset = features.array("QUANTIZED_VOLUME_OFFSET", "FLOAT", 3, 1)
        scale = features.array("QUANTIZED_VOLUME_SCALE", "FLOAT", 3, 1)
        if quantized is None or offset is None or scale is None:
            raise ConversionError(f"{name}: no POSITION nor POSITION_QUANTIZED with its volume in the feature table")
        positions = offset[0] + quantized.astype(np.float64) / 65535.0 * scale[0]
    return np.asarray(positions, dtype=np.float64) + _rtc(legacy)


def pnts_to_glb(legacy: Legacy, name: str) -> Upgraded:
    features = legacy.features
    if "3DTILES_draco_point_compression" in features.json.get("extensions", {}):
        raise ConversionError(f"{name}: Draco-compressed point contents are not supported; export without Draco")
    count = int(features.json.get("POINTS_LENGTH", 0) or 0)
    if count <= 0:
        raise ConversionError(f"{name}: POINTS_LENGTH is missing or zero")
    positions = _positions(legacy, count, name)
    colours = _colours(features, count)
    batch_ids = features.array("BATCH_ID", "UNSIGNED_SHORT", 1, count)
    rows = int(features.json.get("BATCH_LENGTH", 0) or 0) if batch_ids is not None else count
    columns, skipped = batch_columns(legacy.batch, rows) if legacy.batch.json else ({}, [])
    properties: dict[str, Any] = {}
    if batch_ids is not None:
        ids = batch_ids[:, 0].astype(np.int64)
        if ids.size and int(ids.max()) >= max(rows, 1):
            raise ConversionError(f"{name}: BATCH_ID values reach {int(ids.max())} but BATCH_LENGTH is {rows}")
        properties["batch_id"] = ids
    for key, values in columns.items():
        numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if len(numeric) != len(values):
            skipped.append(f"{key} (text per point: only numbers become point attributes)")
            continue
        array = np.asarray(values, dtype=np.float64)
        properties[key] = array[properties["batch_id"]] if batch_ids is not None else array
    if features.array("NORMAL", "FLOAT", 3, count) is not None:
        skipped.append("NORMAL (points are written unlit)")
    content = write_points_glb(positions, colours, properties or None, class_name=CLASS_NAME)
    return Upgraded(content.data, rows, list(properties), skipped)


def _oct_decode(values: NDArray[Any]) -> NDArray[np.float64]:
    v = values.astype(np.float64) / 65535.0 * 2.0 - 1.0
    x, y = v[:, 0], v[:, 1]
    z = 1.0 - np.abs(x) - np.abs(y)
    negative = z < 0
    ox, oy = x.copy(), y.copy()
    ox[negative] = (1.0 - np.abs(y[negative])) * np.sign(x[negative])
    oy[negative] = (1.0 - np.abs(x[negative])) * np.sign(y[negative])
    out = np.stack([ox, oy, z], axis=1)
    normalised: NDArray[np.float64] = out / np.linalg.norm(out, axis=1, keepdims=True)
    return normalised


def _instance_rotations(legacy: Legacy, positions: NDArray[np.float64], count: int,
                        world: NDArray[np.float64]) -> NDArray[np.float64]:
    features = legacy.features
    up = features.array("NORMAL_UP", "FLOAT", 3, count)
    right = features.array("NORMAL_RIGHT", "FLOAT", 3, count)
    if up is None and "NORMAL_UP_OCT32P" in features.json:
        packed_up = features.array("NORMAL_UP_OCT32P", "UNSIGNED_SHORT", 2, count)
        packed_right = features.array("NORMAL_RIGHT_OCT32P", "UNSIGNED_SHORT", 2, count)
        if packed_up is not None and packed_right is not None:
            up, right = _oct_decode(packed_up), _oct_decode(packed_right)
    rotations = np.tile(np.eye(3), (count, 1, 1))
    if up is not None and right is not None:
        up64, right64 = np.asarray(up, dtype=np.float64), np.asarray(right, dtype=np.float64)
        rotations = np.stack([right64, up64, np.cross(right64, up64)], axis=2)
    elif features.json.get("EAST_NORTH_UP"):
        ecef = np.c_[positions, np.ones(count)] @ world.T
        lon = np.arctan2(ecef[:, 1], ecef[:, 0])
        lat = np.arctan2(ecef[:, 2], np.hypot(ecef[:, 0], ecef[:, 1]))  # geocentric: close enough for axes
        east = np.stack([-np.sin(lon), np.cos(lon), np.zeros(count)], axis=1)
        north = np.stack([-np.sin(lat) * np.cos(lon), -np.sin(lat) * np.sin(lon), np.cos(lat)], axis=1)
        upward = np.cross(east, north)
        to_tile = np.linalg.inv(world[:3, :3])
        rotations = np.einsum("ij,kjl->kil", to_tile, np.stack([east, north, upward], axis=2))
    return rotations


def _node_matrix(node: dict[str, Any]) -> NDArray[np.float64]:
    if "matrix" in node:
        return np.array(node["matrix"], dtype=np.float64).reshape(4, 4, order="F")
    t = np.eye(4)
    t[:3, 3] = node.get("translation", [0, 0, 0])
    x, y, z, w = node.get("rotation", [0, 0, 0, 1])
    r = np.eye(4)
    r[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                 [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                 [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    s = np.diag([*node.get("scale", [1, 1, 1]), 1.0])
    return t @ r @ s


def _mesh_nodes(gltf: dict[str, Any]) -> list[tuple[int, NDArray[np.float64]]]:
    """(mesh, global matrix) of every node with a mesh in the default scene."""
    found: list[tuple[int, NDArray[np.float64]]] = []
    nodes = gltf.get("nodes", [])
    scenes = gltf.get("scenes") or [{"nodes": list(range(len(nodes)))}]

    def visit(index: int, parent: NDArray[np.float64], depth: int) -> None:
        if depth > 64:
            raise ConversionError("the glTF node hierarchy is too deep (a cycle?)")
        node = nodes[index]
        matrix = parent @ _node_matrix(node)
        if "mesh" in node:
            found.append((int(node["mesh"]), matrix))
        for child in node.get("children", []):
            visit(int(child), matrix, depth + 1)

    for root in scenes[int(gltf.get("scene", 0))].get("nodes", []):
        visit(int(root), np.eye(4), 0)
    return found


def i3dm_to_glb(legacy: Legacy, name: str, z_up: bool, read: Callable[[str], bytes],
                world: NDArray[np.float64]) -> Upgraded:
    glb = legacy.body if legacy.gltf_format == 1 else read(legacy.body.rstrip(b" \x00").decode("utf-8"))
    builder, gltf, _ = editable_glb(glb, name)
    _embed_external_images(builder, gltf, read)
    count = int(legacy.features.json.get("INSTANCES_LENGTH", 0) or 0)
    if count <= 0:
        raise ConversionError(f"{name}: INSTANCES_LENGTH is missing or zero")
    positions = _positions(legacy, count, name)
    rotations = _instance_rotations(legacy, positions, count, world)
    scales = np.ones((count, 3))
    uniform = legacy.features.array("SCALE", "FLOAT", 1, count)
    non_uniform = legacy.features.array("SCALE_NON_UNIFORM", "FLOAT", 3, count)
    if uniform is not None:
        scales = np.repeat(np.asarray(uniform, dtype=np.float64), 3, axis=1)
    if non_uniform is not None:
        scales = scales * np.asarray(non_uniform, dtype=np.float64)
    instances = np.tile(np.eye(4), (count, 1, 1))
    instances[:, :3, :3] = rotations * scales[:, None, :]
    instances[:, :3, 3] = positions
    batch_ids = legacy.features.array("BATCH_ID", "UNSIGNED_SHORT", 1, count)
    ids = np.arange(count) if batch_ids is None else batch_ids[:, 0].astype(np.int64)
    rows = int(legacy.features.json.get("BATCH_LENGTH", 0) or 0) or (int(ids.max()) + 1 if ids.size else 0)
    upgraded = Upgraded(b"", rows)
    table = _property_table(builder, legacy, rows, upgraded)
    to_gltf = Z_UP_TO_Y_UP @ instances @ (np.eye(4) if z_up else Y_UP_TO_Z_UP)
    new_nodes: list[dict[str, Any]] = []
    for mesh, matrix in _mesh_nodes(gltf):
        translations, quats, sizes = trs(to_gltf @ matrix)
        attributes = {
            "TRANSLATION": builder.add_accessor(translations.astype(np.float32), target=None),
            "ROTATION": builder.add_accessor(quats.astype(np.float32), target=None),
            "SCALE": builder.add_accessor(sizes.astype(np.float32), target=None),
            "_FEATURE_ID_0": builder.add_accessor(ids.astype(np.float32), target=None),
        }
        feature: dict[str, Any] = {"featureCount": len(np.unique(ids)), "attribute": 0, "label": CLASS_NAME}
        if table is not None and (ids.size == 0 or int(ids.max()) < rows):
            feature["propertyTable"] = table
        new_nodes.append({"mesh": mesh, "extensions": {INSTANCING: {"attributes": attributes},
                                                        INSTANCE_FEATURES: {"featureIds": [feature]}}})
    if not new_nodes:
        raise ConversionError(f"{name}: the instanced model has no mesh")
    for key in ("animations", "skins", "cameras"):
        if gltf.pop(key, None) is not None:
            upgraded.skipped.append(f"glTF {key} of the instanced model")
    gltf["nodes"] = new_nodes
    gltf["scenes"] = [{"nodes": list(range(len(new_nodes)))}]
    gltf["scene"] = 0
    builder.use_extension(INSTANCING, required=True)
    builder.use_extension(INSTANCE_FEATURES)
    upgraded.data = builder.to_bytes()
    return upgraded

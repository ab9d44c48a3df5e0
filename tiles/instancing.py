"""Repeated geometry written once per content with ``EXT_mesh_gpu_instancing``.

Public API (stable)::

    InstanceGroup(parts, transforms, features)
        # parts: MeshPart list in the geometry's own coordinates (their ``feature`` is ignored)
        # transforms: (K, 4, 4) local → tile-frame ENU (z-up) affines, each a rotation × positive
        #             per-axis scale (glTF TRS); features: K feature-table rows, one per instance
    write_mesh_glb(..., instances=[InstanceGroup, ...])   (tiles.mesh)

Each group becomes one mesh (primitives per material) and one node carrying per-instance
TRANSLATION / ROTATION / SCALE accessors, plus ``EXT_instance_features`` mapping each instance to
its row of the content's property table. The glTF y-up rotation and, when positions are
quantized, the dequantization scale are folded into every instance transform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tiles.glb import GlbBuilder

INSTANCING = "EXT_mesh_gpu_instancing"
INSTANCE_FEATURES = "EXT_instance_features"
ENU_TO_YUP = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])


@dataclass(slots=True)
class InstanceGroup:
    parts: Sequence[Any]  # tiles.mesh.MeshPart in local coordinates
    transforms: np.ndarray  # (K, 4, 4)
    features: Sequence[int]


def quaternions(rotations: np.ndarray) -> np.ndarray:
    """(K, 3, 3) rotation matrices → (K, 4) unit quaternions (x, y, z, w)."""
    out = np.empty((len(rotations), 4))
    for i, m in enumerate(rotations):
        trace = m[0, 0] + m[1, 1] + m[2, 2]
        if trace > 0:
            s = 2.0 * np.sqrt(trace + 1.0)
            out[i] = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
        elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
            s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
            out[i] = [s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
        elif m[1, 1] > m[2, 2]:
            s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
            out[i] = [(m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
        else:
            s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
            out[i] = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s]
    normalised: NDArray[np.float64] = out / np.linalg.norm(out, axis=1, keepdims=True)
    return normalised


def trs(matrices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(K, 4, 4) affines → translations (K, 3), quaternions (K, 4), scales (K, 3)."""
    linear = matrices[:, :3, :3]
    scales = np.linalg.norm(linear, axis=1)  # column norms
    rotations = linear / scales[:, None, :]
    u, _, vt = np.linalg.svd(rotations)  # nearest proper rotation (removes round-off shear)
    rotations = u @ vt
    return matrices[:, :3, 3], quaternions(rotations), scales


def instance_corners(group: InstanceGroup) -> np.ndarray:
    """Tile-frame corners of every instance's local bounding box, (K*8, 3)."""
    local = np.concatenate([np.asarray(p.positions, dtype=np.float64) for p in group.parts])
    lo, hi = local.min(axis=0), local.max(axis=0)
    corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    return np.concatenate([(corners @ t.T)[:, :3] for t in group.transforms])


def add_instance_node(
    builder: GlbBuilder,
    mesh: int,
    group: InstanceGroup,
    center: np.ndarray,
    dequantize: np.ndarray,
    property_table: int,
) -> None:
    """The node of one group: per-instance TRS (y-up, dequantization folded in) and feature IDs."""
    shift = np.eye(4)
    shift[:3, 3] = -center
    matrices = ENU_TO_YUP @ shift @ np.asarray(group.transforms, dtype=np.float64) @ dequantize
    translations, rotations, scales = trs(matrices)
    attributes = {
        "TRANSLATION": builder.add_accessor(translations.astype(np.float32), target=None),
        "ROTATION": builder.add_accessor(rotations.astype(np.float32), target=None),
        "SCALE": builder.add_accessor(scales.astype(np.float32), target=None),
        "_FEATURE_ID_0": builder.add_accessor(np.asarray(group.features, dtype=np.float32), target=None),
    }
    center_yup = [float(center[0]), float(center[2]), float(-center[1])]
    builder.add_node(
        {
            "mesh": mesh,
            "translation": center_yup,
            "extensions": {
                INSTANCING: {"attributes": attributes},
                INSTANCE_FEATURES: {
                    "featureIds": [
                        {
                            "featureCount": len(set(group.features)),
                            "attribute": 0,
                            "propertyTable": property_table,
                            "label": "element",
                        }
                    ]
                },
            },
        }
    )
    builder.use_extension(INSTANCING, required=True)
    builder.use_extension(INSTANCE_FEATURES)

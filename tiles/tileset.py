"""The 3D Tiles 1.1 tileset model: :class:`Tileset`, :class:`Tile`, :class:`BoundingVolume`.

``Tileset(root=Tile(...), geometric_error=..., metadata=...).to_dict()`` produces the JSON object of
``tileset.json``. Boxes are in the tile's frame (local ENU, z-up, when the root carries
:meth:`converters.georef.LocalFrame.tileset_transform`); ``transform`` is 16 numbers, column-major.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

Refine = Literal["ADD", "REPLACE"]


@dataclass(slots=True)
class BoundingVolume:
    """Exactly one of ``box`` (12 numbers), ``region`` (6, radians/metres) or ``sphere`` (4)."""

    box: list[float] | None = None
    region: list[float] | None = None
    sphere: list[float] | None = None

    @classmethod
    def from_bounds(cls, minimum: np.ndarray, maximum: np.ndarray, pad: float = 0.0) -> BoundingVolume:
        """An axis-aligned box from min/max corners (optionally grown by ``pad`` metres each side)."""
        lo = np.asarray(minimum, dtype=np.float64) - pad
        hi = np.asarray(maximum, dtype=np.float64) + pad
        centre = (lo + hi) / 2
        half = np.maximum((hi - lo) / 2, 1e-3)  # never degenerate
        box = [*centre, half[0], 0.0, 0.0, 0.0, half[1], 0.0, 0.0, 0.0, half[2]]
        return cls(box=[float(v) for v in box])

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned min/max corners of a box or sphere (not for regions)."""
        if self.box is not None:
            b = np.array(self.box, dtype=np.float64)
            extent = np.abs(b[3:6]) + np.abs(b[6:9]) + np.abs(b[9:12])
            return b[:3] - extent, b[:3] + extent
        if self.sphere is not None:
            s = np.array(self.sphere, dtype=np.float64)
            return s[:3] - s[3], s[:3] + s[3]
        raise ValueError("bounds() needs a box or a sphere")

    def to_dict(self) -> dict[str, Any]:
        given = {k: v for k, v in (("box", self.box), ("region", self.region), ("sphere", self.sphere)) if v}
        if len(given) != 1:
            raise ValueError("a bounding volume needs exactly one of box, region, sphere")
        return {k: [float(x) for x in v] for k, v in given.items()}


@dataclass(slots=True)
class Content:
    uri: str
    bounding_volume: BoundingVolume | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"uri": self.uri}
        if self.bounding_volume is not None:
            out["boundingVolume"] = self.bounding_volume.to_dict()
        return out


@dataclass(slots=True)
class Tile:
    bounding_volume: BoundingVolume
    geometric_error: float
    content: Content | None = None
    children: list[Tile] = field(default_factory=list)
    refine: Refine | None = None
    transform: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "boundingVolume": self.bounding_volume.to_dict(),
            "geometricError": float(self.geometric_error),
        }
        if self.refine is not None:
            out["refine"] = self.refine
        if self.transform is not None:
            if len(self.transform) != 16:
                raise ValueError("transform needs 16 numbers (column-major)")
            out["transform"] = [float(v) for v in self.transform]
        if self.content is not None:
            out["content"] = self.content.to_dict()
        if self.children:
            out["children"] = [child.to_dict() for child in self.children]
        return out

    def walk(self) -> list[Tile]:
        tiles = [self]
        for child in self.children:
            tiles.extend(child.walk())
        return tiles


@dataclass(slots=True)
class Tileset:
    root: Tile
    geometric_error: float
    metadata: dict[str, str | float | int | bool] | None = None  # tileset metadata (1.1 schema + entity)
    extras: dict[str, Any] | None = None  # free-form, written to asset.extras
    extensions_used: list[str] = field(default_factory=list)
    extensions_required: list[str] = field(default_factory=list)
    tileset_version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        if self.root.refine is None:
            raise ValueError("the root tile needs refine (ADD or REPLACE)")
        asset: dict[str, Any] = {"version": "1.1", "generator": "cim-platform"}
        if self.tileset_version:
            asset["tilesetVersion"] = self.tileset_version
        if self.extras:
            asset["extras"] = self.extras
        out: dict[str, Any] = {"asset": asset}
        if self.metadata:
            out["schema"], out["metadata"] = _tileset_metadata(self.metadata)
        out["geometricError"] = float(self.geometric_error)
        out["root"] = self.root.to_dict()
        if self.extensions_used:
            out["extensionsUsed"] = sorted(set(self.extensions_used))
        if self.extensions_required:
            out["extensionsRequired"] = sorted(set(self.extensions_required))
        return out

    def write(self, path: Path) -> int:
        """Write ``tileset.json``; returns the bytes written."""
        data = json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        Path(path).write_bytes(data)
        return len(data)


def _tileset_metadata(values: dict[str, str | float | int | bool]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A one-class schema and the tileset's metadata entity for simple key/value pairs."""
    properties: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, bool):
            properties[key] = {"type": "BOOLEAN"}
        elif isinstance(value, int | float):
            properties[key] = {"type": "SCALAR", "componentType": "FLOAT64"}
        else:
            properties[key] = {"type": "STRING"}
    schema = {"id": "cim_tileset", "classes": {"tileset": {"properties": properties}}}
    entity = {
        "class": "tileset",
        "properties": {
            k: (float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v) for k, v in values.items()
        },
    }
    return schema, entity

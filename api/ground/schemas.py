"""The ground domain's response bodies: which terrain and imagery the city's viewers can use."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class TerrainDatasetRef(BaseModel):
    id: uuid.UUID
    revision_id: uuid.UUID
    name: str
    max_level: int
    bounds: list[float]  # west, south, east, north (degrees, WGS84)


class TerrainPublic(BaseModel):
    layer_url: str  # the combined quantized-mesh layer (CesiumTerrainProvider.fromUrl)
    max_level: int
    datasets: list[TerrainDatasetRef]


class ImageryLayerPublic(BaseModel):
    id: uuid.UUID
    revision_id: uuid.UUID
    name: str
    bounds: list[float]  # west, south, east, north (degrees, WGS84)
    webmercator_url: str  # {z}/{x}/{y} template, XYZ rows from the north (EPSG:3857)
    geographic_url: str  # {z}/{x}/{y} template, EPSG:4326, level 0 = two tiles (Cesium's geographic scheme)


class GroundLayersPublic(BaseModel):
    terrain: TerrainPublic
    imagery: list[ImageryLayerPublic]

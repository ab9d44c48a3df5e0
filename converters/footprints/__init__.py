"""Building footprints (GeoJSON, GeoPackage with heights) and CityJSON 2.0 → 3D Tiles 1.1 LOD1/LOD2."""

from converters.footprints.convert import convert

__all__ = ["convert"]

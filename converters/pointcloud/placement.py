"""Moved to :mod:`converters.placement` (shared with the pipelines converter); re-exported here."""

from converters.placement import Placement, ToEnu, place_at_origin, place_in_crs, place_local

__all__ = ["Placement", "ToEnu", "place_at_origin", "place_in_crs", "place_local"]

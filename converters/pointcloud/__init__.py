"""Point clouds (LAS 1.2–1.4, LAZ, COPC) → 3D Tiles 1.1 point contents; see :mod:`.convert`."""

from converters.pointcloud.convert import convert

__all__ = ["convert"]

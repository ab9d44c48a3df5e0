"""Telling apart the kinds that share a file suffix (``.tif``, ``.zip``…) with a cheap look at the file.

Kept apart from the converter packages so that sniffing imports none of them (each costs tens to
hundreds of milliseconds of start-up: rasterio, pyproj, shapely, trimesh); rasterio is imported only
when a file really starts like a TIFF. :data:`SNIFFERS` maps a kind to its test; the packages
re-export theirs as ``sniff``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePosixPath

from converters.archive import inspect_zip, member_names
from converters.errors import ConversionError

TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
HEIGHT_DTYPES = ("int16", "int32", "uint16", "uint32", "float32", "float64")


def looks_like_tiff(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) in TIFF_MAGIC
    except OSError:
        return False


def band_layout(path: Path) -> tuple[int, str] | None:
    """(band count, dtype of band 1) of a readable TIFF, else None."""
    if not looks_like_tiff(path):
        return None
    import rasterio
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(path) as dataset:
            return dataset.count, str(dataset.dtypes[0])
    except (RasterioIOError, OSError, ValueError):
        return None


def terrain(path: Path) -> bool:
    """One band of heights (integers wider than a byte, or floats); also a file that cannot be read as a
    raster at all, so that its refusal (``check_input``) says why rather than "not a supported format"."""
    layout = band_layout(path)
    return layout is None or (layout[0] == 1 and layout[1] in HEIGHT_DTYPES)


def imagery(path: Path) -> bool:
    """1, 3 or 4 bands of 8-bit colour."""
    layout = band_layout(path)
    return layout is not None and layout[0] in (1, 3, 4) and layout[1] == "uint8"


def tileset(path: Path) -> bool:
    """A zip holding a ``tileset.json``; a hostile archive (unsafe paths, links, a zip bomb) is refused
    here already (ConversionError), before it is stored."""
    if not any(PurePosixPath(name).name == "tileset.json" for name in member_names(Path(path))):
        return False
    inspect_zip(Path(path))
    return True


def oblique(path: Path) -> bool:
    """A zip holding ``.osgb`` files. A hostile archive or a delivery without ``metadata.xml`` is refused
    here already (ConversionError), before it is stored."""
    if not any(name.lower().endswith(".osgb") for name in member_names(Path(path))):
        return False
    find_delivery(inspect_zip(Path(path)), Path(path).name)
    return True


def find_delivery(names: list[str], archive: str) -> tuple[PurePosixPath, PurePosixPath]:
    """(metadata.xml, Data folder) of the OSGB delivery in the archive."""
    metadata = sorted((PurePosixPath(n) for n in names if PurePosixPath(n).name.lower() == "metadata.xml"),
                      key=lambda p: len(p.parts))
    osgb = [PurePosixPath(n) for n in names if n.lower().endswith(".osgb")]
    if not osgb:
        raise ConversionError(f"{archive}: no .osgb files in the archive")
    if not metadata:
        raise ConversionError(
            f"{archive}: no metadata.xml in the delivery, so its coordinate system and origin are unknown; "
            "add the metadata.xml the photogrammetry software wrote beside the Data folder (SRS and SRSOrigin)"
        )
    base = metadata[0].parent
    data = next((p.parent for p in osgb if p.parent.parent.parent == base and p.parent.parent.name.lower() == "data"),
                None)
    if data is None:
        raise ConversionError(f"{archive}: no Data/Tile_…/Tile_….osgb blocks beside {metadata[0]}")
    return metadata[0], data.parent


SNIFFERS: dict[str, Callable[[Path], bool]] = {
    "terrain": terrain,
    "imagery": imagery,
    "tileset": tileset,
    "oblique": oblique,
}

"""Reading LAS/LAZ/COPC files in bounded chunks with laspy (lazrs backend, multi-threaded)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import laspy
import numpy as np
from numpy.typing import NDArray

from converters.errors import ConversionError

# Errors laspy/lazrs raise on damaged input (lazrs raises plain exceptions with a message).
_READ_ERRORS: tuple[type[BaseException], ...] = (laspy.errors.LaspyException, ValueError, OSError, EOFError,
                                                 RuntimeError, IndexError)


@dataclass(slots=True)
class PointChunk:
    xyz: NDArray[np.float64]  # (n, 3) file units
    rgb: NDArray[np.uint16] | None  # (n, 3) as stored
    intensity: NDArray[np.uint16] | None  # (n,)
    classification: NDArray[np.uint8] | None  # (n,)


@dataclass(slots=True)
class LasInfo:
    path: Path
    version: str
    point_format: int
    point_count: int
    mins: NDArray[np.float64]
    maxs: NDArray[np.float64]
    compressed: bool
    copc: bool
    has_rgb: bool
    has_intensity: bool
    has_classification: bool
    extra_dimensions: list[str] = field(default_factory=list)
    header: Any = None

    def report(self) -> dict[str, Any]:
        return {
            "las_version": self.version,
            "point_format": self.point_format,
            "points_in_header": self.point_count,
            "compressed": self.compressed,
            "copc": self.copc,
            "bounds_file_units": {"min": [float(v) for v in self.mins], "max": [float(v) for v in self.maxs]},
            "attributes": {
                "rgb": self.has_rgb,
                "intensity": self.has_intensity,
                "classification": self.has_classification,
                "extra_dimensions_not_carried": self.extra_dimensions,
            },
        }


def _laz_backend() -> Any:
    try:
        return laspy.LazBackend.LazrsParallel if laspy.LazBackend.LazrsParallel.is_available() else None
    except AttributeError:  # pragma: no cover - older laspy
        return None


def read_info(path: Path) -> LasInfo:
    try:
        with laspy.open(path) as reader:
            header = reader.header
            dims = set(header.point_format.dimension_names)
            copc = any(type(v).__name__ == "CopcInfoVlr" for v in header.vlrs)
            extra = list(header.point_format.extra_dimension_names)
            return LasInfo(
                path=path,
                version=str(header.version),
                point_format=int(header.point_format.id),
                point_count=int(header.point_count),
                mins=np.asarray(header.mins, dtype=np.float64),
                maxs=np.asarray(header.maxs, dtype=np.float64),
                compressed=bool(header.are_points_compressed),
                copc=copc,
                has_rgb={"red", "green", "blue"} <= dims,
                has_intensity="intensity" in dims,
                has_classification="classification" in dims,
                extra_dimensions=extra,
                header=header,
            )
    except _READ_ERRORS as error:
        raise ConversionError(f"{path.name}: not a readable LAS/LAZ file ({_reason(error)})") from error


def iter_chunks(info: LasInfo, chunk_points: int, start: int = 0, stop: int | None = None,
                parallel: bool = True) -> Iterator[PointChunk]:
    """Yield points ``start``..``stop`` (default: all) in chunks of at most ``chunk_points``.

    Damaged or truncated data raises :class:`ConversionError`. ``parallel`` selects lazrs'
    multi-threaded decompression (off in worker processes that already run in parallel).
    """
    stop = info.point_count if stop is None else stop
    read = start
    backend = _laz_backend() if parallel else None
    try:
        with laspy.open(info.path, laz_backend=backend) as reader:
            if start:
                reader.seek(start)
            while read < stop:
                points = reader.read_points(min(chunk_points, stop - read))
                n = len(points)
                if n == 0:
                    break
                read += n
                yield _chunk(points, info)
    except _READ_ERRORS as error:
        raise ConversionError(
            f"{info.path.name}: damaged or truncated point data after {read} of {info.point_count} points "
            f"({_reason(error)})"
        ) from error
    if read < stop:
        raise ConversionError(
            f"{info.path.name}: truncated: the header announces {info.point_count} points, the file holds {read}"
        )


def _chunk(points: Any, info: LasInfo) -> PointChunk:
    scales = np.asarray(info.header.scales, dtype=np.float64)
    offsets = np.asarray(info.header.offsets, dtype=np.float64)
    xyz = np.empty((len(points), 3), dtype=np.float64)
    for axis, name in enumerate(("X", "Y", "Z")):
        np.multiply(np.asarray(points[name]), scales[axis], out=xyz[:, axis])
        xyz[:, axis] += offsets[axis]
    rgb = None
    if info.has_rgb:
        rgb = np.empty((len(points), 3), dtype=np.uint16)
        for axis, name in enumerate(("red", "green", "blue")):
            rgb[:, axis] = np.asarray(points[name])
    intensity = np.asarray(points["intensity"], dtype=np.uint16) if info.has_intensity else None
    classification = (np.asarray(points["classification"], dtype=np.uint8)
                      if info.has_classification else None)
    return PointChunk(xyz, rgb, intensity, classification)


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:160]

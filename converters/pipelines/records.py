"""A checked pipeline network held column-wise: one array or list per field for all points (``PointTable``) and
all segments (``SegmentTable``), as the reader builds them and the converter uses them. ``PipePoint`` and
``PipeSegment`` are one row of each, built on demand (the registry and tests read records).

Missing numbers are NaN in the arrays and ``None`` in the records; missing texts are ``None`` in both.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
T = TypeVar("T")


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused (restored after): reading and converting a network allocates
    millions of small lists and strings that hold no cycles, and each collection would walk all of them
    (about a third of the reading time at 100 000 segments)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def optional(values: Floats) -> list[float | None]:
    """The array as Python floats, None where NaN."""
    return [None if v != v else v for v in values.tolist()]


def optional_int(values: Floats) -> list[int | None]:
    """The array as Python ints (truncated), None where NaN."""
    return [None if v != v else int(v) for v in values.tolist()]


def pick(values: Sequence[T], rows: list[int]) -> list[T]:
    """``values`` at ``rows``."""
    return list(map(values.__getitem__, rows))


@dataclass(slots=True)
class PipePoint:
    id: str
    category: str | None
    feature: str
    x: float  # map easting
    y: float  # map northing
    ground: float | None  # ground elevation (1985 heights)
    depth: float | None
    manhole_m: float | None  # manhole (well) diameter or width in metres
    owner: str | None
    district: str | None
    extras: dict[str, Any]
    row: int


@dataclass(slots=True)
class PipeSegment:
    id: str
    start: str
    end: str
    category: str
    round: bool
    diameter_mm: float | None
    width_mm: float | None
    height_mm: float | None
    start_depth: float | None
    end_depth: float | None
    z_start: float  # centreline elevation at the start (1985 heights)
    z_end: float
    material: str | None
    pressure: str | None
    voltage: str | None
    laying: str | None
    ducts: int | None
    owner: str | None
    construction_year: int | None
    survey_date: str | None
    district: str | None
    extras: dict[str, Any]
    row: int

    @property
    def half_across_m(self) -> float:
        return ((self.diameter_mm if self.round else self.width_mm) or 0.0) / 2000

    @property
    def half_height_m(self) -> float:
        return ((self.diameter_mm if self.round else self.height_mm) or 0.0) / 2000


@dataclass(slots=True)
class PointTable:
    """Every point, one entry per point in each field (the fields of :class:`PipePoint`)."""

    id: list[str]
    category: list[str | None]
    feature: list[str]
    x: Floats
    y: Floats
    ground: Floats
    depth: Floats
    manhole_m: Floats
    owner: list[str | None]
    district: list[str | None]
    extras: list[dict[str, Any]]
    row: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.id)

    @staticmethod
    def concat(parts: list[PointTable]) -> PointTable:
        return PointTable(*_concat(parts, PointTable.__slots__))

    def records(self) -> list[PipePoint]:
        return [PipePoint(*fields) for fields in zip(
            self.id, self.category, self.feature, self.x.tolist(), self.y.tolist(), optional(self.ground),
            optional(self.depth), optional(self.manhole_m), self.owner, self.district, self.extras,
            self.row.tolist(), strict=True)]


@dataclass(slots=True)
class SegmentTable:
    """Every segment, one entry per segment in each field (the fields of :class:`PipeSegment`, plus the
    indices of its end points in the :class:`PointTable`)."""

    id: list[str]
    start: list[str]
    end: list[str]
    start_at: NDArray[np.int64]
    end_at: NDArray[np.int64]
    category: list[str]
    round: NDArray[np.bool_]
    diameter_mm: Floats
    width_mm: Floats
    height_mm: Floats
    start_depth: Floats
    end_depth: Floats
    z_start: Floats
    z_end: Floats
    material: list[str | None]
    pressure: list[str | None]
    voltage: list[str | None]
    laying: list[str | None]
    ducts: Floats  # whole numbers
    owner: list[str | None]
    construction_year: Floats  # whole numbers
    survey_date: list[str | None]
    district: list[str | None]
    extras: list[dict[str, Any]]
    row: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.id)

    @staticmethod
    def concat(parts: list[SegmentTable]) -> SegmentTable:
        if not parts:
            floats, ints = np.zeros(0), np.zeros(0, dtype=np.int64)
            return SegmentTable([], [], [], ints, ints, [], np.zeros(0, dtype=bool), floats, floats, floats, floats,
                                floats, floats, floats, [], [], [], [], floats, [], floats, [], [], [], ints)
        return SegmentTable(*_concat(parts, SegmentTable.__slots__))

    def half_across_m(self) -> Floats:
        """Half the size across (radius or half width), metres; 0 where unknown."""
        across: Floats = np.nan_to_num(np.where(self.round, self.diameter_mm, self.width_mm), nan=0.0) / 2000
        return across

    def half_height_m(self) -> Floats:
        high: Floats = np.nan_to_num(np.where(self.round, self.diameter_mm, self.height_mm), nan=0.0) / 2000
        return high

    def records(self) -> list[PipeSegment]:
        return [PipeSegment(*fields) for fields in zip(
            self.id, self.start, self.end, self.category, self.round.tolist(), optional(self.diameter_mm),
            optional(self.width_mm), optional(self.height_mm), optional(self.start_depth), optional(self.end_depth),
            self.z_start.tolist(), self.z_end.tolist(), self.material, self.pressure, self.voltage, self.laying,
            optional_int(self.ducts), self.owner, optional_int(self.construction_year), self.survey_date,
            self.district, self.extras, self.row.tolist(), strict=True)]


def _concat(parts: Sequence[Any], names: Sequence[str]) -> list[Any]:
    if len(parts) == 1:
        return [getattr(parts[0], name) for name in names]
    out: list[Any] = []
    for name in names:
        values = [getattr(part, name) for part in parts]
        if isinstance(values[0], np.ndarray):
            out.append(np.concatenate(values))
        else:
            out.append([v for part in values for v in part])
    return out

"""Building heights and base elevations from footprint attributes, with reasons for every skip."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.errors import ConversionError
from converters.options import ConvertOptions

HEIGHT_NAMES = ("height", "height_m", "HEIGHT", "Height", "building_height", "measuredHeight", "bldg_height")
FLOOR_NAMES = ("floors", "FLOORS", "Floors", "levels", "building:levels", "storeys", "floor_count", "num_floors")
MAX_HEIGHT_M = 1000.0


@dataclass(slots=True)
class HeightRule:
    source: str  # "height_field", "floors_field"
    field: str
    storey_height: float
    base_field: str | None
    base_default: float
    note: str

    def report(self) -> dict[str, Any]:
        return {"source": self.source, "field": self.field, "storey_height_m": self.storey_height,
                "base_field": self.base_field, "base_default": self.base_default, "note": self.note}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def choose_rule(columns: dict[str, list[Any]], options: ConvertOptions) -> HeightRule:
    """Which attribute gives the height (``columns``: name → values); ConversionError if the data has none."""
    present = set(columns)
    numeric = sorted(k for k in present if any(_number(v) is not None for v in columns[k][:200]))
    base_default = options.base_height if options.base_height is not None else 0.0
    if options.base_field and options.base_field not in present:
        raise ConversionError(f"no feature has the base field {options.base_field!r}; fields found: "
                              f"{', '.join(sorted(present)) or 'none'}")
    base_note = "" if options.base_field or options.base_height is not None else \
        "; no base elevation given (--base-field): buildings stand at height 0 of the vertical datum"
    if options.height_field:
        if options.height_field not in present:
            raise ConversionError(f"no feature has the height field {options.height_field!r}; numeric fields "
                                  f"found: {', '.join(numeric) or 'none'}")
        return HeightRule("height_field", options.height_field, options.storey_height, options.base_field,
                          base_default, f"height from --height-field {options.height_field}" + base_note)
    if options.floors_field:
        if options.floors_field not in present:
            raise ConversionError(f"no feature has the floors field {options.floors_field!r}; numeric fields "
                                  f"found: {', '.join(numeric) or 'none'}")
        return HeightRule("floors_field", options.floors_field, options.storey_height, options.base_field,
                          base_default, f"height = {options.floors_field} × {options.storey_height} m" + base_note)
    for name in HEIGHT_NAMES:
        if name in present:
            return HeightRule("height_field", name, options.storey_height, options.base_field, base_default,
                              f"height field {name!r} found by name (no --height-field given)" + base_note)
    for name in FLOOR_NAMES:
        if name in present:
            return HeightRule("floors_field", name, options.storey_height, options.base_field, base_default,
                              f"floors field {name!r} found by name × {options.storey_height} m" + base_note)
    raise ConversionError("the footprints carry no height: pass --height-field NAME or --floors-field NAME "
                          f"(numeric fields found: {', '.join(numeric) or 'none'})")


def height_and_base(props: dict[str, Any], rule: HeightRule) -> tuple[float, float] | str:
    """(height, base) in source vertical units, or the reason the building is skipped."""
    raw = props.get(rule.field)
    if raw is None:
        return f"no value in {rule.field!r}"
    value = _number(raw)
    if value is None:
        return f"{rule.field} = {str(raw)[:30]!r} is not a number"
    height = value * rule.storey_height if rule.source == "floors_field" else value
    if height <= 0:
        return f"height {height:g} is not positive"
    if height > MAX_HEIGHT_M:
        return f"height {height:g} m is implausible (> {MAX_HEIGHT_M:g} m)"
    base = rule.base_default
    if rule.base_field:
        base_value = _number(props.get(rule.base_field))
        if base_value is None:
            return f"no numeric base elevation in {rule.base_field!r}"
        base = base_value
    return height, base


def _numbers(values: Sequence[Any] | None, count: int) -> NDArray[np.float64]:
    """Values as float64, NaN where :func:`_number` gives None (missing, text, bool, infinite)."""
    if values is None:
        return np.full(count, np.nan)
    types = set(map(type, values))
    if types <= {int, float}:
        out = np.array(values, dtype=np.float64)
    else:
        out = np.array([math.nan if (n := _number(v)) is None else n for v in values], dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


def resolve_heights(columns: dict[str, list[Any]], count: int, rule: HeightRule,
                    rows: NDArray[np.integer]) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[int, str]]:
    """:func:`height_and_base` for the features ``rows`` at once: (height, base) of every row, and the
    skip reason of the rows that have none (by row)."""
    raw = columns.get(rule.field)
    value = _numbers(raw, count)[rows]
    height = value * rule.storey_height if rule.source == "floors_field" else value
    base = np.full(len(rows), rule.base_default, dtype=np.float64)
    if rule.base_field:
        base = _numbers(columns.get(rule.base_field), count)[rows]
    with np.errstate(invalid="ignore"):
        bad = ~((height > 0) & (height <= MAX_HEIGHT_M) & np.isfinite(base))
    reasons: dict[int, str] = {}
    for row in rows[bad].tolist():
        props = {name: columns[name][row] for name in (rule.field, rule.base_field) if name and name in columns}
        reason = height_and_base(props, rule)
        reasons[row] = reason if isinstance(reason, str) else f"height {reason[0]:g} is not usable"
    return height, base, reasons

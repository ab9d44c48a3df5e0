"""Conversion parameters given with an upload, validated into ConvertOptions fields."""

from __future__ import annotations

import json
import math
from typing import Any

from cim_platform.core.errors import InvalidInput
from cim_platform.datasets.crs_input import validate_crs_text

BOOL_FIELDS = ("allow_ungeoreferenced", "local", "include_spaces", "strict")
TEXT_FIELDS = ("height_field", "floors_field", "base_field")
FLOAT_FIELDS = {"rotation": "rotation_deg", "scale": "scale", "storey_height": "storey_height"}


def _float(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InvalidInput(f"{name} must be a finite number")
    return value


def _bool(name: str, text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise InvalidInput(f"{name} must be true or false, got {text!r}")


def convert_params(fields: dict[str, str]) -> dict[str, Any]:
    """ConvertOptions keyword arguments (JSON-able) from the upload's form fields."""
    params: dict[str, Any] = {}
    if crs := fields.get("crs", "").strip():
        params["crs"] = validate_crs_text(crs)
    if origin := fields.get("origin", "").strip():
        numbers = [_float("origin", part) for part in origin.split(",")]
        if len(numbers) == 2:
            numbers.append(0.0)
        if len(numbers) != 3:
            raise InvalidInput("origin must be E,N[,H]")
        params["origin"] = numbers
    for name, key in FLOAT_FIELDS.items():
        if (text := fields.get(name, "").strip()) != "":
            params[key] = _float(name, text)
    if params.get("scale", 1.0) <= 0 or params.get("storey_height", 1.0) <= 0:
        raise InvalidInput("scale and storey_height must be positive")
    if (up := fields.get("up", "").strip()) != "":
        if up not in ("y", "z"):
            raise InvalidInput("up must be y or z")
        params["up"] = up
    for name in BOOL_FIELDS:
        if name in fields:
            params[name] = _bool(name, fields[name])
    for name in TEXT_FIELDS:
        if text := fields.get(name, "").strip():
            params[name] = text
    if text := fields.get("column_map", "").strip():
        params["column_map"] = _column_map(text)
    return params


def _column_map(text: str) -> dict[str, str]:
    """Survey tables' column names of this upload: a JSON object, field → column name."""
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidInput('column_map must be a JSON object, e.g. {"point_id": "PID"}') from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and 0 < len(v) <= 200 for k, v in value.items()
    ) or len(value) > 100:
        raise InvalidInput("column_map must map field names to column names (text)")
    return value

"""Survey tables → a checked pipeline network: points and segments with 3D centrelines, and every bad row
listed with its reason.

Centreline elevations follow the depth convention of each category (CJJ 61): drainage depths (and given
elevations) are to the pipe's *inner bottom*, all others to its *outer top*. For a section of vertical size
``h`` (diameter, or box height), the centre is ``ground - depth + h/2`` (drainage) or ``ground - depth - h/2``
(others); with a given elevation ``e`` instead of a depth, ``e + h/2`` or ``e - h/2``. Heights stay in the
survey's datum (Yellow Sea 1985); the conversion to ellipsoidal heights happens when placing the network.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pyproj import CRS

from converters.errors import ConversionError
from converters.georef import crs_label, parse_crs
from converters.options import ConvertOptions
from converters.pipelines.records import PipePoint, PipeSegment, PointTable, SegmentTable, paused_gc, pick
from converters.pipelines.schema import (
    CATEGORY_BY_CODE,
    LINE_FIELDS,
    POINT_FIELDS,
    category_of,
    feature_of,
    resolve_columns,
)
from converters.pipelines.tables import Table, Tables, read_tables

MAX_DEPTH_M = 30.0  # deeper than this is not a plausible direct survey of a buried pipe
MAX_SIZE_MM = 8000.0  # larger sections are utility tunnels at most
MIN_LENGTH_M = 0.01
MAX_PROBLEMS_LISTED = 500
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_SECTION = re.compile(r"(\d+(?:\.\d+)?)\s*[x×X*＊]\s*(\d+(?:\.\d+)?)")


@dataclass(slots=True)
class Problem:
    table: str
    row: int  # the row number in the file (the header is row 1)
    id: str | None
    code: str  # missing_end_point, negative_diameter, implausible_depth, duplicate_id, …
    reason: str
    severity: str = "error"  # error: the row is left out; warning: kept with the named assumption

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "row": self.row, "id": self.id, "code": self.code, "reason": self.reason,
                "severity": self.severity}


@dataclass(slots=True)
class Network:
    crs: str
    point_table: PointTable
    segment_table: SegmentTable
    problems: list[Problem]
    swapped_xy: bool = False
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table → field → column used
    ignored_tables: list[str] = field(default_factory=list)
    rows_read: dict[str, int] = field(default_factory=dict)
    _records: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def points(self) -> list[PipePoint]:
        """The points as records (built once, on first use)."""
        if "points" not in self._records:
            self._records["points"] = self.point_table.records()
        points: list[PipePoint] = self._records["points"]
        return points

    @property
    def segments(self) -> list[PipeSegment]:
        """The segments as records (built once, on first use)."""
        if "segments" not in self._records:
            self._records["segments"] = self.segment_table.records()
        segments: list[PipeSegment] = self._records["segments"]
        return segments

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def point_index(self) -> dict[str, int]:
        return {ident: i for i, ident in enumerate(self.point_table.id)}


def centreline_elevation(category: str, vertical_size_m: float, *, ground: float | None = None,
                         depth: float | None = None, elevation: float | None = None) -> float | None:
    """The pipe's centre elevation at one end by its category's depth convention (see the module doc)."""
    convention = CATEGORY_BY_CODE[category].depth_to
    if elevation is not None:
        reference = elevation
    elif ground is not None and depth is not None:
        reference = ground - depth
    else:
        return None
    half = vertical_size_m / 2
    return reference + half if convention == "inner_bottom" else reference - half


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    """A number from a cell ("DN300", "1.2m", 300 …); None when empty; ValueError when not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    text = str(value).strip().replace("，", ".").replace(",", ".")
    if not text:
        return None
    match = _NUMBER.search(text)
    if match is None:
        raise ValueError(text)
    return float(match.group())


_CATEGORY_CACHE: dict[str, str | None] = {}
_NOT_A_NUMBER = object()
_NUMBER_CACHE: dict[str, object] = {}


def _cached_number(text: str) -> float | None:
    """``_number`` of a text, remembered (size columns repeat a few values over many rows)."""
    found = _NUMBER_CACHE.get(text, _NUMBER_CACHE)
    if found is _NUMBER_CACHE:
        try:
            found = _number(text)
        except ValueError:
            found = _NOT_A_NUMBER
        if len(_NUMBER_CACHE) < 100_000:
            _NUMBER_CACHE[text] = found
    if found is _NOT_A_NUMBER:
        raise ValueError(text)
    return found  # type: ignore[return-value]


def _texts(values: list[Any]) -> list[str | None]:
    if set(map(type, values)) <= {str}:
        stripped: list[str | None] = list(map(str.strip, values))
        return [v or None for v in stripped] if "" in stripped else stripped
    return [_text(v) for v in values]


class _Table:
    """One table's fields, read column-wise; problems listed per row (the first reason of a row wins)."""

    def __init__(self, table: Table, columns: dict[str, str]) -> None:
        self.table, self.columns = table, columns
        self.count = table.count
        self.reason: list[tuple[str, str, str] | None] = [None] * table.count  # (code, reason, severity)
        self.warnings: list[tuple[int, str, str]] = []
        self.used = set(columns.values())

    def has(self, name: str) -> bool:
        return name in self.columns

    def raw(self, name: str) -> list[Any]:
        column = self.columns.get(name)
        return self.table.columns[column] if column is not None else [None] * self.count

    def text(self, name: str) -> list[str | None]:
        if name not in self.columns:
            return [None] * self.count
        read = self.table.texts(self.columns[name])
        return read if read is not None else _texts(self.raw(name))

    def number(self, name: str) -> NDArray[np.float64]:
        """The column as floats (NaN where empty); rows holding text that is no number are refused."""
        if name not in self.columns:
            return np.full(self.count, np.nan)
        read = self.table.floats(self.columns[name])
        if read is not None:
            return read
        values = self.raw(name)
        try:
            return np.array([None if v == "" else v for v in values] if "" in values else values, dtype=np.float64)
        except (ValueError, TypeError):
            pass
        out = np.full(self.count, np.nan)
        for i, value in enumerate(values):
            try:
                number = _number(value)
            except ValueError:
                self.refuse(i, "not_a_number", f"{self.columns[name]} = {str(value)[:40]!r} is not a number")
                continue
            if number is not None:
                out[i] = number
        return out

    def refuse(self, i: int, code: str, reason: str) -> None:
        if self.reason[i] is None:
            self.reason[i] = (code, reason, "error")

    def refuse_where(self, mask: NDArray[np.bool_], code: str, reason: Any) -> None:
        for i in np.flatnonzero(mask).tolist():
            if self.reason[i] is None:
                self.reason[i] = (code, reason(i) if callable(reason) else reason, "error")

    def warn(self, i: int, code: str, reason: str) -> None:
        self.warnings.append((i, code, reason))

    def ok(self) -> NDArray[np.bool_]:
        return np.array([r is None for r in self.reason], dtype=bool)

    def problems(self, ids: list[str | None]) -> list[Problem]:
        out = [Problem(self.table.name, i + 2, ids[i], r[0], r[1], r[2]) for i, r in enumerate(self.reason) if r]
        out += [Problem(self.table.name, i + 2, ids[i], code, reason, "warning") for i, code, reason in self.warnings]
        return out

    def extras(self, i: int) -> dict[str, Any]:
        out = {}
        for name, values in self.table.columns.items():
            if name not in self.used:
                text = _text(values[i])
                if text is not None:
                    out[name] = text
        return out


def _categories(texts: list[str | None]) -> list[str | None]:
    out: list[str | None] = []
    for text in texts:
        if text is None:
            out.append(None)
            continue
        if text not in _CATEGORY_CACHE:
            found = category_of(text)
            _CATEGORY_CACHE[text] = found.code if found else None
        out.append(_CATEGORY_CACHE[text])
    return out


def _check_depth(rows: _Table, depth: NDArray[np.float64], label: str) -> None:
    bad = (depth < 0) | (depth > MAX_DEPTH_M)
    rows.refuse_where(bad, "implausible_depth", lambda i: f"{label} {depth[i]:g} m is not a plausible depth "
                      f"(expected 0 to {MAX_DEPTH_M:g} m)")


def _first_seen(rows: _Table, ids: list[str | None], seen: dict[str, int], what: str) -> None:
    if (None not in ids and rows.reason.count(None) == len(ids) and len(set(ids)) == len(ids)
            and seen.keys().isdisjoint(ids)):  # the common case: every id given once and no row refused yet
        seen.update(zip(ids, range(2, len(ids) + 2), strict=True))  # type: ignore[arg-type]
        return
    for i, ident in enumerate(ids):
        if ident is None:
            continue
        if ident in seen:
            rows.refuse(i, "duplicate_id", f"{what} id {ident} also on row {seen[ident]}")
        elif rows.reason[i] is None:
            seen[ident] = i + 2


def _features(texts: list[str | None]) -> list[str]:
    """``feature_of`` of every text (worked out once per distinct text)."""
    known = {text: feature_of(text) for text in dict.fromkeys(texts)}
    return list(map(known.__getitem__, texts))


def _points(tables: list[Table], options: ConvertOptions, problems: list[Problem],
            columns_used: dict[str, dict[str, str]]) -> PointTable:
    parts: list[PointTable] = []
    seen: dict[str, int] = {}
    for table in tables:
        columns = resolve_columns(table.header, POINT_FIELDS, options.column_map)
        columns_used[table.name] = columns
        rows = _Table(table, columns)
        ids = rows.text("point_id")
        for i in (i for i, ident in enumerate(ids) if ident is None):
            rows.refuse(i, "missing_id", "the point has no point id")
        east_north = rows.has("easting") and rows.has("northing")
        x = rows.number("easting" if east_north else "x")
        y = rows.number("northing" if east_north else "y")
        if table.geometry_xy is not None:
            fill = np.isnan(x) | np.isnan(y)
            x[fill], y[fill] = table.geometry_xy[fill, 0], table.geometry_xy[fill, 1]
        rows.refuse_where(np.isnan(x) | np.isnan(y), "missing_coordinates", "the point has no X/Y coordinates")
        ground, depth = rows.number("ground_elevation"), rows.number("depth")
        _check_depth(rows, depth, "depth")
        _first_seen(rows, ids, seen, "point")
        sizes = rows.text("manhole_size")
        categories = rows.text("category")
        codes = _categories(categories)
        keep = np.flatnonzero(rows.ok()).tolist()
        manhole = np.full(rows.count, np.nan)
        for i in keep:  # warnings in row order: the manhole size first, then the category
            size_text = sizes[i]
            if size_text:
                try:
                    size = _cached_number(size_text)
                    found = size / 1000 if size and size > 20 else size  # mm (CJJ 61) or metres
                    manhole[i] = np.nan if found is None else found
                except ValueError:
                    rows.warn(i, "not_a_number", f"manhole size {sizes[i]!r} is not a number")
            if categories[i] and codes[i] is None:
                rows.warn(i, "unknown_category", f"category {categories[i]!r} is not known: taken as other")
        extras = [rows.extras(i) for i in keep] if len(rows.used) < len(table.columns) else [{} for _ in keep]
        kept_ids: list[str] = pick(ids, keep)  # type: ignore[arg-type]  # refused when None
        parts.append(PointTable(
            kept_ids, [code or ("other" if text else None) for code, text in zip(
                pick(codes, keep), pick(categories, keep), strict=True)],
            _features(pick(rows.text("feature"), keep)), x[keep], y[keep], ground[keep], depth[keep], manhole[keep],
            pick(rows.text("owner"), keep), pick(rows.text("district"), keep), extras,
            np.asarray(keep, dtype=np.int64) + 2))
        problems.extend(rows.problems(ids))
    return PointTable.concat(parts)


_SECTION_CACHE: dict[str, tuple[float, float] | None] = {}


def _section(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    if text not in _SECTION_CACHE:
        match = _SECTION.search(text)
        _SECTION_CACHE[text] = (float(match.group(1)), float(match.group(2))) if match else None
    return _SECTION_CACHE[text]


def _sizes(rows: _Table) -> tuple[NDArray[np.bool_], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per row: round?, diameter, width, height (mm; NaN where not applicable); bad rows refused."""
    sections = [_section(t) for t in rows.text("section")]
    diameter_texts = rows.text("diameter")
    sections = [s if s is not None else _section(d) for s, d in zip(sections, diameter_texts, strict=True)]
    boxed = np.array([s is not None for s in sections], dtype=bool)
    width = np.array([s[0] if s else np.nan for s in sections])
    height = np.array([s[1] if s else np.nan for s in sections])
    diameter = np.full(rows.count, np.nan)
    if rows.has("diameter"):
        plain = [None if b else d for d, b in zip(diameter_texts, boxed.tolist(), strict=True)]
        for i, text in enumerate(plain):
            if text is None:
                continue
            try:
                value = _cached_number(text)
            except ValueError:
                rows.refuse(i, "not_a_number", f"{rows.columns['diameter']} = {text[:40]!r} is not a number")
                continue
            diameter[i] = np.nan if value is None else value
    rows.refuse_where(boxed & ~((width > 0) & (width <= MAX_SIZE_MM) & (height > 0) & (height <= MAX_SIZE_MM)),
                      "implausible_size", lambda i: f"section {width[i]:g} × {height[i]:g} mm is not plausible")
    rows.refuse_where(~boxed & np.isnan(diameter), "missing_size",
                      "the segment has neither a diameter nor a section width × height")
    rows.refuse_where(~boxed & (diameter <= 0), "negative_diameter",
                      lambda i: f"diameter {diameter[i]:g} mm is not positive")
    rows.refuse_where(~boxed & (diameter > MAX_SIZE_MM), "implausible_size",
                      lambda i: f"diameter {diameter[i]:g} mm is larger than {MAX_SIZE_MM:g} mm")
    return ~boxed, diameter, width, height


def _segments(tables: list[Table], points: PointTable, options: ConvertOptions, problems: list[Problem],
              columns_used: dict[str, dict[str, str]], missing_points: set[str]) -> SegmentTable:
    parts: list[SegmentTable] = []
    seen: dict[str, int] = {}
    this_year = date.today().year
    index = {ident: i for i, ident in enumerate(points.id)}
    p_x, p_y, p_ground = np.append(points.x, np.nan), np.append(points.y, np.nan), np.append(points.ground, np.nan)
    manholes = np.array([f == "manhole" for f in points.feature] + [False], dtype=bool)
    p_depth = np.where(manholes, np.nan, np.append(points.depth, np.nan))  # a manhole's depth is the well's
    p_category = [*points.category, None]
    p_owner, p_district = [*points.owner, None], [*points.district, None]
    for table in tables:
        columns = resolve_columns(table.header, LINE_FIELDS, options.column_map)
        columns_used[table.name] = columns
        rows = _Table(table, columns)
        starts, ends = rows.text("start_id"), rows.text("end_id")
        given = rows.text("segment_id")
        ids = [g or (f"{s}-{e}" if s and e else None) for g, s, e in zip(given, starts, ends, strict=True)]
        for i in range(rows.count):
            if starts[i] is None or ends[i] is None:
                rows.refuse(i, "missing_end_point", "the segment lacks its start or end point id")
        _first_seen(rows, ids, seen, "segment")
        s_at = np.array([index.get(s, -1) if s else -1 for s in starts], dtype=np.int64)
        e_at = np.array([index.get(e, -1) if e else -1 for e in ends], dtype=np.int64)

        def absent(i: int, starts: list[str | None] = starts, ends: list[str | None] = ends) -> str:
            names = [p for p in (starts[i], ends[i]) if p not in index]
            why = " (its row was refused)" if any(p in missing_points for p in names) else ""
            return f"end point {', '.join(str(p) for p in names)} is not in the point table{why}"

        rows.refuse_where((s_at < 0) | (e_at < 0), "missing_end_point", absent)
        same = np.array([s == e for s, e in zip(starts, ends, strict=True)], dtype=bool)
        rows.refuse_where(same, "zero_length", "start and end are the same point")
        flat = np.hypot(p_x[e_at] - p_x[s_at], p_y[e_at] - p_y[s_at]) < MIN_LENGTH_M
        rows.refuse_where(flat & ~same & (s_at >= 0) & (e_at >= 0), "zero_length",
                          "start and end points lie at the same place")
        category_texts = rows.text("category")
        codes = _categories(category_texts)
        s_list, e_list = s_at.tolist(), e_at.tolist()
        fallback, fallback_end = pick(p_category, s_list), pick(p_category, e_list)
        final: list[str] = []
        for i, (code, text) in enumerate(zip(codes, category_texts, strict=True)):
            chosen = code or fallback[i] or fallback_end[i] or "other"
            final.append(chosen)
            if code is None and (text or not (fallback[i] or fallback_end[i])) and rows.reason[i] is None:
                rows.warn(i, "unknown_category", f"category {text or '(none)'!r} is not known: taken as {chosen}")
        round_, diameter, width, height = _sizes(rows)
        start_depth, end_depth = rows.number("start_depth"), rows.number("end_depth")
        start_elevation, end_elevation = rows.number("start_elevation"), rows.number("end_elevation")
        _check_depth(rows, start_depth, "start depth")
        _check_depth(rows, end_depth, "end depth")
        vertical = np.where(round_, diameter, height) / 1000
        inner_bottom = np.array([CATEGORY_BY_CODE[c].depth_to == "inner_bottom" for c in final], dtype=bool)
        half = np.where(inner_bottom, 1.0, -1.0) * vertical / 2
        z = []
        for label, at, depth, elevation in (("start", s_at, start_depth, start_elevation),
                                            ("end", e_at, end_depth, end_elevation)):
            depth = np.where(np.isnan(depth) & np.isnan(elevation), p_depth[at], depth)
            ground = p_ground[at]
            centre = np.where(np.isnan(elevation), ground - depth, elevation) + half
            no_ground = np.isnan(centre) & ~np.isnan(depth)
            rows.refuse_where(no_ground, "missing_depth",
                              lambda i, at=at, label=label: f"the {label} has no ground elevation at point "
                              f"{points.id[at[i]]}")
            rows.refuse_where(np.isnan(centre), "missing_depth", f"the {label} has no depth or elevation")
            top = centre + vertical / 2
            rows.refuse_where(top > ground + 0.01, "above_ground",
                              lambda i, at=at, label=label: f"the {label} of the pipe lies above the ground at "
                              f"point {points.id[at[i]]}")
            z.append(centre)
        ducts, years = rows.number("ducts"), rows.number("construction_year")
        texts = {name: rows.text(name) for name in ("material", "pressure", "voltage", "laying", "owner",
                                                     "survey_date", "district")}
        keep = np.flatnonzero(rows.ok())
        whole = np.trunc(years)
        odd = ~np.isnan(years) & ~((whole >= 1900) & (whole <= this_year + 1))
        for i in np.flatnonzero(odd[keep]).tolist():
            year = whole[keep[i]]
            rows.warn(int(keep[i]), "implausible_year",
                      f"construction year {int(year) if np.isfinite(year) else year} left out")
        # a depth not given on the line is the end point's (not a manhole's) when no elevation is given
        start_depth = np.where(np.isnan(start_depth) & np.isnan(start_elevation), p_depth[s_at], start_depth)
        end_depth = np.where(np.isnan(end_depth) & np.isnan(end_elevation), p_depth[e_at], end_depth)
        rows_kept = keep.tolist()
        s_kept, e_kept = s_at[keep], e_at[keep]
        s_kept_list = s_kept.tolist()
        kept_ids: list[str] = [str(i) for i in pick(ids, rows_kept)]
        parts.append(SegmentTable(
            kept_ids, pick(points.id, s_kept_list), pick(points.id, e_kept.tolist()), s_kept, e_kept,
            pick(final, rows_kept), round_[keep], diameter[keep], width[keep], height[keep], start_depth[keep],
            end_depth[keep], z[0][keep], z[1][keep], pick(texts["material"], rows_kept),
            pick(texts["pressure"], rows_kept), pick(texts["voltage"], rows_kept), pick(texts["laying"], rows_kept),
            np.trunc(ducts[keep]),
            [o or p_owner[p] for o, p in zip(pick(texts["owner"], rows_kept), s_kept_list, strict=True)],
            np.where(odd, np.nan, whole)[keep], pick(texts["survey_date"], rows_kept),
            [d or p_district[p] for d, p in zip(pick(texts["district"], rows_kept), s_kept_list, strict=True)],
            [rows.extras(i) for i in rows_kept] if len(rows.used) < len(table.columns) else [{} for _ in rows_kept],
            keep.astype(np.int64) + 2))
        problems.extend(rows.problems(ids))
    return SegmentTable.concat(parts)


def _zone_prefixed_crs(points: PointTable) -> str | None:
    """CGCS2000 3-degree zones 36/37 written as a prefix of the easting (36 xxx xxx m / 37 xxx xxx m)."""
    if not len(points):
        return None
    values = np.column_stack([points.x[:1000], points.y[:1000]])
    for column in (0, 1):
        prefixes = set((values[:, column] // 1_000_000).astype(int).tolist())
        if prefixes == {36}:
            return "EPSG:4524+5737"
        if prefixes == {37}:
            return "EPSG:4525+5737"
    return None


def _swap_if_northing_first(points: PointTable, crs: CRS) -> bool:
    """Chinese survey tables write X = northing, Y = easting: swap when X looks like a northing."""
    horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
    if not horizontal.is_projected or not len(points):
        return False
    xs = np.median(points.x)
    ys = np.median(points.y)
    if xs > 1_000_000 > ys or (xs > 3_000_000 and ys > 30_000_000 and ys < 46_000_000 and xs < 10_000_000):
        points.x, points.y = points.y, points.x
        return True
    return False


def build_network(tables: Tables, options: ConvertOptions, layer_crs: str | None = None,
                  name: str = "") -> Network:
    problems: list[Problem] = []
    columns_used: dict[str, dict[str, str]] = {}
    if not tables.points:
        raise ConversionError(f"{name}: no point table found (a table with a point id and X/Y columns, e.g. "
                              "管线点号, X, Y); give the column names with the conversion option column_map")
    points = _points(tables.points, options, problems, columns_used)
    crs_text = options.crs or layer_crs or _zone_prefixed_crs(points)
    if crs_text is None:
        raise ConversionError(f"{name}: the tables carry no coordinate reference system: give it with the upload "
                              "(crs, e.g. EPSG:4546+5737 for CGCS2000 3-degree zone 37 with 1985 heights)")
    crs = parse_crs(crs_text)
    swapped = _swap_if_northing_first(points, crs)
    refused = {p.id for p in problems if p.severity == "error" and p.id}
    segments = _segments(tables.lines, points, options, problems, columns_used, refused)
    if not len(segments) and not len(points):
        raise ConversionError(f"{name}: none of the rows could be used ({len(problems)} problems, first: "
                              f"{problems[0].reason if problems else 'no rows'})")
    rows_read = {t.name: t.count for t in (*tables.points, *tables.lines)}
    return Network(crs_label(crs), points, segments, problems, swapped, columns_used, tables.ignored, rows_read)


def read_network(path: Path, options: ConvertOptions | None = None) -> Network:
    """Read and check the survey tables of ``path`` (the converter's reader, also used by the registry).

    In ``options.strict`` mode any refused row refuses the whole upload (ConversionError naming the first)."""
    options = options or ConvertOptions()
    with paused_gc():
        tables = read_tables(Path(path), options.column_map)
        layer_crs = next((t.crs for t in (*tables.points, *tables.lines) if t.crs), None)
        network = build_network(tables, options, layer_crs, Path(path).name)
    errors = network.errors
    if options.strict and errors:
        listed = "; ".join(f"{p.table} row {p.row}: {p.reason}" for p in errors[:3])
        raise ConversionError(f"{Path(path).name}: {len(errors)} rows refused (strict mode): {listed}")
    return network

"""Reading a large GeoJSON FeatureCollection in several processes.

The ``features`` array is cut at ``},{`` boundaries into ``parts`` byte ranges; every range is parsed as
``[range]`` (a forked worker per extra part, the first part in this process) and turned into columns
and geometries (sent back as WKB). The cut is safe by construction: a range parses as a JSON array
only if it is a whole sequence of features (a cut inside a feature or a string leaves brackets or a
string open), and the rest of the document is checked by parsing it with the array replaced by a
marker. Whenever any check fails the caller parses the whole file the ordinary way.
"""

from __future__ import annotations

import multiprocessing
import re
from multiprocessing.connection import Connection
from multiprocessing.context import ForkProcess
from pickle import UnpicklingError
from typing import Any, cast

import numpy as np
import orjson
import shapely
from numpy.typing import NDArray

from converters.footprints.sources import clean_features, read_features

MIN_PARALLEL_BYTES = 4 << 20
_FEATURES = re.compile(rb'"features"\s*:\s*\[')
_BOUNDARY = re.compile(rb"\}\s*,\s*\{")
_MARKER = b'"\\u0000cim-features"'
_DATA: dict[str, bytes] = {}

# geometries, columns, problems, known valid
Part = tuple[NDArray[np.object_], dict[str, list[Any]], dict[int, str], NDArray[np.bool_]]
WkbPart = Part  # the same with the geometries as WKB (what a worker sends back)


def _ranges(data: bytes, parts: int) -> tuple[dict[str, Any], list[tuple[int, int]]] | None:
    """(the document without its features, byte ranges of the features) or None if not cut-able."""
    found = _FEATURES.search(data)
    end = data.rfind(b"]")
    if found is None or end <= found.end():
        return None
    start = found.end()
    try:
        head = orjson.loads(data[: start - 1] + _MARKER + data[end + 1 :])
    except orjson.JSONDecodeError:
        return None
    if not isinstance(head, dict) or head.get("features") != _MARKER[1:-1].decode("unicode_escape"):
        return None
    starts, ends = [start], []
    for i in range(1, parts):
        boundary = _BOUNDARY.search(data, max(starts[-1], start + (end - start) * i // parts), end)
        if boundary is None:
            break
        ends.append(boundary.start() + 1)  # after the "}" of the last feature of this range
        starts.append(boundary.end() - 1)  # the "{" of the first feature of the next one
    ends.append(end)
    if len(starts) < 2:
        return None
    ranges = list(zip(starts, ends, strict=True))
    return head, ranges


def _read_range(lo: int, hi: int) -> Part:
    """Parse, read and clean one range (polygons 2D without repeated points; which are known valid)."""
    features = orjson.loads(b"[" + _DATA["data"][lo:hi] + b"]")
    geometries, columns, problems = read_features(features)
    geometries, known_valid = clean_features(geometries)
    return geometries, columns, problems, known_valid


def _read_range_wkb(lo: int, hi: int) -> WkbPart:
    geometries, columns, problems, known_valid = _read_range(lo, hi)
    # types-shapely declares NDArray[bytes_]; shapely returns an object array of bytes (None stays None)
    wkb = cast(NDArray[np.object_], shapely.to_wkb(geometries))
    return wkb, columns, problems, known_valid


def _child(lo: int, hi: int, conn: Connection[Any, Any]) -> None:
    """Forked worker: parse one range and send it back pickled (an exception is sent as such)."""
    try:
        payload: WkbPart | Exception = _read_range_wkb(lo, hi)
    except Exception as error:  # reported to the parent, which falls back to the ordinary parse
        payload = error
    try:
        conn.send(payload)
    finally:
        conn.close()


def read_parallel(data: bytes, parts: int) -> tuple[dict[str, Any], Part] | None:
    """(document without features, (geometries, columns, problems)) or None: parse it the ordinary way.

    The workers are forked directly with their range (no executor: its manager thread needs the GIL to
    hand out work, which the parse in this process holds, so the workers would start late).
    """
    if parts < 2 or len(data) < MIN_PARALLEL_BYTES:
        return None
    cut = _ranges(data, parts)
    if cut is None:
        return None
    head, ranges = cut
    _DATA["data"] = data
    context = multiprocessing.get_context("fork")
    workers: list[tuple[ForkProcess, Connection[Any, Any]]] = []
    try:
        for lo, hi in ranges[1:]:
            receive, send = context.Pipe(duplex=False)
            process = context.Process(target=_child, args=(lo, hi, send), daemon=True)
            process.start()
            send.close()
            workers.append((process, receive))
        try:
            first = _read_range(*ranges[0])
        except (ValueError, RuntimeError, shapely.errors.GEOSException):
            return None
        rest = []
        for _, receive in workers:
            payload = receive.recv()
            if isinstance(payload, BaseException):
                return None
            rest.append(payload)
    except (EOFError, OSError, UnpicklingError):  # a lost worker
        return None
    finally:
        _DATA.clear()
        for process, receive in workers:
            receive.close()
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
    pieces = [first] + [(shapely.from_wkb(wkb), columns, problems, known) for wkb, columns, problems, known in rest]
    return head, _merge(pieces)


def _merge(pieces: list[Part]) -> Part:
    sizes = [len(p[0]) for p in pieces]
    names: dict[str, None] = {}
    for piece in pieces:
        names.update(dict.fromkeys(piece[1]))
    columns: dict[str, list[Any]] = {}
    for name in names:
        values: list[Any] = []
        for (_, piece_columns, _, _), size in zip(pieces, sizes, strict=True):
            values.extend(piece_columns.get(name) or [None] * size)
        columns[name] = values
    problems: dict[int, str] = {}
    offset = 0
    for (_, _, piece_problems, _), size in zip(pieces, sizes, strict=True):
        problems.update({offset + i: reason for i, reason in piece_problems.items()})
        offset += size
    geometries = np.concatenate([p[0] for p in pieces]) if pieces else np.zeros(0, dtype=object)
    known_valid = np.concatenate([p[3] for p in pieces]) if pieces else np.zeros(0, dtype=bool)
    return geometries.astype(object), columns, problems, known_valid

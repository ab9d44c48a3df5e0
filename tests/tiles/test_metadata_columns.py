"""Array columns of ``tiles.metadata`` (NumberColumn, TextColumn) encode to the same glb bytes as the
equivalent Python lists, for every column kind the list encoder picks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.support.structural_metadata import layout_errors
from tiles.glb import GlbBuilder
from tiles.metadata import ENUM_NO_VALUE, NumberColumn, StructuralMetadata, TextColumn

RNG = np.random.default_rng(15)


def _glb(columns: dict[str, Any]) -> bytes:
    builder = GlbBuilder()
    metadata = StructuralMetadata(builder)
    metadata.add_property_table("thing", columns)
    metadata.finish()
    builder.add_node({"name": "empty"})
    return builder.to_bytes()


def _texts(rows: int, distinct: int, gaps: bool) -> list[str | None]:
    words = ["管线", "water", "", ENUM_NO_VALUE, "DN300", "Ω"] + [f"v{i}" for i in range(distinct)]
    picked = RNG.integers(0, len(words), rows).tolist()
    texts: list[str | None] = [words[i] for i in picked]
    if gaps:
        texts[::7] = [None] * len(texts[::7])
    return texts


def _floats(rows: int, gaps: bool) -> np.ndarray:
    values = np.round(RNG.normal(1000.0, 300.0, rows), 3)
    values[-1:] = -0.0
    if gaps:
        values[::5] = np.nan
    return values


def _ints(rows: int, big: bool) -> tuple[np.ndarray, np.ndarray]:
    values = RNG.integers(-(2**40) if big else 1900, 2**40 if big else 2030, rows)
    missing = np.zeros(rows, dtype=bool)
    missing[::3] = True
    return values, missing


@pytest.mark.parametrize("rows", [1, 2, 7, 300, 5000])
@pytest.mark.parametrize("gaps", [False, True])
def test_array_columns_encode_like_lists(rows: int, gaps: bool) -> None:
    floats = _floats(rows, gaps)
    ints, missing = _ints(rows, big=False)
    big, big_missing = _ints(rows, big=True)
    texts = {name: _texts(rows, distinct, gaps) for name, distinct in
             (("few", 3), ("many", 400), ("unique", rows * 3))}
    unique = [f"id-{i}-é" if i % 4 else None for i in range(rows)] if gaps else [f"id-{i}" for i in range(rows)]
    as_lists: dict[str, Any] = {
        "float": [None if v != v else v for v in floats.tolist()],
        "int": [None if m and gaps else v for v, m in zip(ints.tolist(), missing.tolist(), strict=True)],
        "int64": [None if m and gaps else v for v, m in zip(big.tolist(), big_missing.tolist(), strict=True)],
        "ids": unique,
        "empty_text": [""] * rows,
        "no_text": [None] * rows,
        "no_number": [None] * rows,
        **texts,
    }
    as_arrays: dict[str, Any] = {
        "float": NumberColumn(floats),
        "int": NumberColumn(ints, missing if gaps else None),
        "int64": NumberColumn(big, big_missing if gaps else None),
        "ids": TextColumn.of(unique),
        "empty_text": TextColumn.of([""] * rows),
        "no_text": TextColumn.of([None] * rows),
        "no_number": NumberColumn(np.full(rows, np.nan)),
        **{name: TextColumn.of(values) for name, values in texts.items()},
    }
    expected = _glb(as_lists)
    assert _glb(as_arrays) == expected
    assert layout_errors(expected) == []


def test_taken_rows_encode_like_the_picked_lists() -> None:
    texts = _texts(2000, 40, gaps=True)
    floats = _floats(2000, gaps=True)
    keys = np.sort(RNG.choice(2000, 300, replace=False))
    picked = {"text": [texts[k] for k in keys.tolist()],
              "float": [None if floats[k] != floats[k] else float(floats[k]) for k in keys.tolist()]}
    taken = {"text": TextColumn.of(texts).take(keys), "float": NumberColumn(floats).take(keys)}
    assert _glb(taken) == _glb(picked)
    assert taken["text"].to_list() == picked["text"] and taken["float"].to_list() == picked["float"]

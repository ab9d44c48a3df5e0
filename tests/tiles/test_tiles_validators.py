"""The tileset validator accepts a good tileset and names each rule a bad one breaks."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from tests.support.validators import validate_tileset
from tiles.tileset import BoundingVolume, Content, Tile, Tileset


def _good(tmp_path: Path) -> dict:
    (tmp_path / "a.glb").write_bytes(b"x")
    child = Tile(BoundingVolume.from_bounds([0, 0, 0], [5, 5, 5]), 0.0, Content("a.glb"))
    root = Tile(
        BoundingVolume.from_bounds([0, 0, 0], [10, 10, 10]),
        20.0,
        children=[child],
        refine="REPLACE",
        transform=[1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 100, 200, 300, 1],
    )
    return Tileset(root, 40.0, metadata={"georeferencingSource": "explicit", "confidence": 1.0}).to_dict()


def test_good_tileset_passes(tmp_path: Path) -> None:
    assert validate_tileset(_good(tmp_path), tmp_path) == []


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        (lambda t: t["root"].pop("refine"), "refine"),
        (lambda t: t["root"]["children"][0].update(geometricError=50.0), "geometricError larger"),
        (lambda t: t["root"]["children"][0]["boundingVolume"]["box"].__setitem__(0, 30.0), "not inside the parent"),
        (lambda t: t["root"].update(transform=[1, 0, 0, 100, 0, 1, 0, 200, 0, 0, 1, 300, 0, 0, 0, 1]), "affine"),
        (lambda t: t["root"]["children"][0]["content"].update(uri="missing.glb"), "does not exist"),
        (lambda t: t["root"].update(extensions={"MAXAR_grid": {}}), "extensionsUsed"),
        (lambda t: t.update(extensionsUsed=["A"], extensionsRequired=["B"]), "extensionsRequired"),
        (lambda t: t["root"].update(refine="add"), "refine"),  # the schema accepts any string here
        (lambda t: t.pop("asset"), "schema"),
        (lambda t: t["root"]["children"][0].pop("geometricError"), "schema"),
        (lambda t: t["root"]["boundingVolume"].update(box=[1, 2, 3]), "schema"),
        (
            lambda t: t["root"]["children"][0]["content"].update(
                boundingVolume={"box": [0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1]}
            ),
            "content boundingVolume",
        ),
        (
            lambda t: t["root"]["children"][0].update(
                content={"uri": "ext.json"}, children=[copy.deepcopy(t["root"]["children"][0])]
            ),
            "external tileset has children",
        ),
    ],
)
def test_each_rule_is_enforced(tmp_path: Path, breakage, expected: str) -> None:
    (tmp_path / "ext.json").write_text("{}")
    tileset = _good(tmp_path)
    breakage(tileset)
    problems = validate_tileset(tileset, tmp_path)
    assert any(expected in p for p in problems), problems

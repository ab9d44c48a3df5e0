"""How the tessellation is shared among the children, and outputs that do not depend on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import ifcopenshell
import ifcopenshell.geom
import pytest

from converters.ifc import geometry

CORPUS = Path(os.environ.get("CIM_CORPUS_DIR", Path(__file__).resolve().parents[3] / "shared" / "corpus")) / "ifc"
ROOF = CORPUS / "Roof-01_BCAD.ifc"
needs_roof = pytest.mark.skipif(not ROOF.is_file(), reason="corpus not mounted")


def test_a_small_model_of_cheap_elements_gets_one_child() -> None:
    shares = geometry.plan(list(range(1, 23)), set(), set(), 2)  # vectorworks_unicode: 22 boxes
    assert shares == [(list(range(1, 23)), [])]


def test_expensive_elements_are_spread_over_the_children_by_cost() -> None:
    ids = list(range(1, 25))
    clipped = set(range(1, 13))  # the fast kernel leaves these out: OpenCASCADE after it, ~11× the cost
    shares = geometry.plan(ids, {24}, clipped, 2)
    assert len(shares) == 2
    assert sorted(i for fast, reference in shares for i in fast + reference) == ids  # each id once
    assert [24] in [reference for _, reference in shares]  # openings: straight to OpenCASCADE
    clipped_per_child = [len(clipped.intersection(fast)) for fast, _ in shares]
    assert sorted(clipped_per_child) == [6, 6]
    assert all(fast == sorted(fast) for fast, _ in shares)  # each share in the model's order


def test_equal_elements_are_dealt_round_robin_up_to_jobs() -> None:
    ids = list(range(1000))
    assert geometry.plan(ids, set(), set(), 2) == [(ids[0::2], []), (ids[1::2], [])]
    assert len(geometry.plan(ids, set(), set(), 8)) == 8
    assert geometry.plan(ids, set(), set(), 1) == [(ids, [])]


@needs_roof
def test_clipped_elements_are_found_from_their_boolean_results() -> None:
    model = ifcopenshell.open(str(ROOF))
    expected = geometry.expected_elements(model, False)
    clipped = geometry.with_booleans(model, expected)
    kinds = sorted(model.by_id(i).is_a() for i in clipped)
    assert kinds == ["IfcSlab"] * 4 + ["IfcWallStandardCase"] * 8
    # exactly the elements the fast kernel leaves out, besides the one with an opening
    voided = geometry.with_openings(model) & set(expected)
    settings = geometry._settings()
    left_out = set()
    for step_id in expected:
        try:
            ifcopenshell.geom.create_shape(settings, model.by_id(step_id), geometry_library=geometry.FAST_KERNEL)
        except RuntimeError:
            left_out.add(step_id)
    assert voided and clipped == left_out - voided


@needs_roof
def test_the_output_does_not_depend_on_the_children(tmp_path: Path) -> None:
    """One child or two (elements arriving in another order): the same bytes. Each conversion in a
    fresh process, as the platform runs them (not forked from a test process that tessellated)."""
    outputs = []
    for run, jobs in enumerate((1, 2, 2)):
        out = tmp_path / f"run{run}"
        code = (
            "import json, sys; from pathlib import Path; from converters.api import convert; "
            "from converters.options import ConvertOptions; "
            "r = convert(Path(sys.argv[1]), Path(sys.argv[2]), ConvertOptions(jobs=int(sys.argv[3]), "
            "allow_ungeoreferenced=True)); print(json.dumps(r['kernel']))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(ROOF), str(out), str(jobs)], capture_output=True, text=True, check=True
        )
        assert json.loads(done.stdout)["reference_elements"] == 13
        outputs.append({p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*.glb")})
    assert outputs[0] and outputs[0] == outputs[1] == outputs[2]

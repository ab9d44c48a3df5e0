"""IDS checking offline: the city's example IDS, a generated model with known failures, `cim check`."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ifctester import ids as ids_model

from cim_platform.bim_review.errors import IdsUnreadable
from cim_platform.bim_review.ids_check import check_files, load_ids_text

ROOT = Path(__file__).resolve().parents[2]
ORDOS_IDS = ROOT / "sample_models" / "ids" / "ordos-delivery.ids"
CASES = Path(__file__).parent / "data" / "ids_testcases"
_spec = importlib.util.spec_from_file_location(
    "make_review_models", ROOT / "sample_models" / "bim_review" / "make_review_models.py"
)
assert _spec and _spec.loader
make_review_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_review_models)


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_review_models.make_revisions(tmp_path_factory.mktemp("bim-models"))  # type: ignore[no-any-return]


def cim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )


def test_example_ids_is_valid_against_the_ids_xsd() -> None:
    document = ids_model.open(str(ORDOS_IDS), validate=True)
    assert len(document.specifications) == 4
    assert [s.minOccurs for s in document.specifications] == [0, 0, 0, 1]  # georeferencing is required


def test_known_failures_per_requirement(revisions: tuple[Path, Path]) -> None:
    report = check_files(revisions[0], ORDOS_IDS)
    assert not report.passed
    by_id = {s.name.split(" / ")[0]: s for s in report.specifications}
    storey, walls, spaces, georef = (
        by_id[k] for k in ("构件位于楼层", "墙体注明内外墙", "空间有名称和面积", "模型已地理配准")
    )
    [on_storey] = storey.requirements
    assert (on_storey.passed_count, on_storey.failed_count) == (5, 1)  # the column in a space passes
    assert [(f.ifc_class, f.name) for f in on_storey.failures] == [("IfcWall", "Loose wall")]
    assert [(f.ifc_class, f.name) for f in walls.requirements[0].failures] == [("IfcWall", "Partition")]
    assert "property set" in walls.requirements[0].failures[0].reason
    name, area = spaces.requirements
    assert (name.facet, area.facet) == ("Attribute", "Property")
    assert [f.ifc_class for f in name.failures] == [f.ifc_class for f in area.failures] == ["IfcSpace"]
    assert name.failures[0].global_id == area.failures[0].global_id and len(name.failures[0].global_id) == 22
    assert georef.passed and georef.applicable_count == 1
    assert report.failed_specifications == 3


def test_missing_map_conversion_fails_the_required_specification(tmp_path: Path, revisions: tuple[Path, Path]) -> None:
    import ifcopenshell

    model = ifcopenshell.open(str(revisions[1]))
    for entity in model.by_type("IfcMapConversion"):
        model.remove(entity)
    stripped = tmp_path / "no_georef.ifc"
    model.write(str(stripped))
    georef = next(s for s in check_files(stripped, ORDOS_IDS).specifications if s.name.startswith("模型已地理配准"))
    assert not georef.passed and georef.applicable_count == 0


def test_cli_exit_codes_and_reports(tmp_path: Path, revisions: tuple[Path, Path]) -> None:
    passing = CASES / "property" / "pass-external_load_bearing_walls_need_a_fire_rating_property_1_2"
    ok = cim("check", str(passing.with_suffix(".ifc")), "--ids", str(passing.with_suffix(".ids")))
    assert ok.returncode == 0, ok.stderr
    assert "PASS" in ok.stdout

    failing = cim("check", str(revisions[0]), "--ids", str(ORDOS_IDS), "--report", "json")
    assert failing.returncode == 1, failing.stderr
    data = json.loads(failing.stdout)
    assert data["passed"] is False
    names = {f["name"] for s in data["specifications"] for r in s["requirements"] for f in r["failures"]}
    assert names == {"Loose wall", "Partition", ""}

    page = tmp_path / "report.html"
    html = cim("check", str(revisions[0]), "--ids", str(ORDOS_IDS), "--report", "html", "-o", str(page))
    assert html.returncode == 1
    assert "Loose wall" in page.read_text(encoding="utf-8") and page.read_text().startswith("<!doctype html>")


@pytest.mark.parametrize("which", ["ifc", "ids", "missing"])
def test_cli_unreadable_input_is_one_line_exit_2(tmp_path: Path, which: str, revisions: tuple[Path, Path]) -> None:
    junk = tmp_path / f"junk.{which}"
    junk.write_text("not a model", encoding="utf-8")
    model, ids = {
        "ifc": (junk, ORDOS_IDS),
        "ids": (revisions[0], junk),
        "missing": (tmp_path / "absent.ifc", ORDOS_IDS),
    }[which]
    result = cim("check", str(model), "--ids", str(ids))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("error: ")


def test_ids_not_following_the_schema_is_refused() -> None:
    with pytest.raises(IdsUnreadable, match=r"IDS 1\.0 schema"):
        load_ids_text(ORDOS_IDS.read_text(encoding="utf-8").replace("requirements>", "requirement>"))

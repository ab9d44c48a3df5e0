"""ifcopenshell's MVD parser built on first use (``converters/ifc/mvd_parser``): ``file.mvd`` answers as
without the deferral, the module imports as usual, and the conversion process never builds the parser.

Each case runs in a fresh interpreter: the deferral acts only before ifcopenshell's first import."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SAMPLE = Path(__file__).resolve().parents[2] / "sample_models" / "ifc" / "ordos_kangbashi_hall_4546.ifc"
DESCRIPTION = (
    "FILE_DESCRIPTION(('ViewDefinition [CoordinationView_V2.0, QuantityTakeOffAddOnView]',"
    "'Comment [Synthetic example header]','ExchangeRequirement [Architecture]',"
    "'Option [Drawing Scale: 100.000000]'),'2;1');"
)

# Prints, as JSON: whether the module in sys.modules had built its parser before ``file.mvd`` was read,
# what ``file.mvd`` holds, and afterwards whether the real module replaced the stand-in everywhere.
_PROBE = """
import json, sys
defer = sys.argv[2] == "defer"
if defer:
    from converters.ifc.mvd_parser import MODULE, defer as start
    assert start() is True
import ifcopenshell
import ifcopenshell.util.mvd_info as imported  # the import statement and the package attribute work
name = "ifcopenshell.util.mvd_info"
built_at_import = "parser" in vars(sys.modules[name])
model = ifcopenshell.open(sys.argv[1])
mvd = model.mvd
module = sys.modules[name]
print(json.dumps({
    "built_at_import": built_at_import,
    "lark_available": imported.LARK_AVAILABLE,
    "package_attribute": ifcopenshell.util.mvd_info is module,
    "built_after": "parser" in vars(module),
    "class": type(mvd).__module__ + "." + type(mvd).__qualname__,
    "real_class": isinstance(mvd, module.MvdInfo),
    "file_holds_the_class": isinstance(mvd, sys.modules["ifcopenshell.file"].MvdInfo),
    "read_again": model.mvd.view_definitions == mvd.view_definitions,
    "view_definitions": mvd.view_definitions,
    "keywords": sorted(mvd.keywords),
    "comments": mvd.comments,
    "exchange_requirements": mvd.exchange_requirements,
    "options": mvd.options,
}))
"""


def _probe(source: Path, mode: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(source), mode], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answer: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return answer


def _with_description(tmp_path: Path) -> Path:
    text = SAMPLE.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(text) if line.startswith("FILE_DESCRIPTION("))
    text[index] = DESCRIPTION
    path = tmp_path / "described.ifc"
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def test_file_mvd_answers_as_without_the_deferral(tmp_path: Path) -> None:
    source = _with_description(tmp_path)
    plain, deferred = _probe(source, "plain"), _probe(source, "defer")
    assert plain["built_at_import"] is True  # what the deferral avoids: ifcopenshell builds it at import
    assert deferred["built_at_import"] is False
    assert deferred["built_after"] is True and deferred["package_attribute"] is True
    assert deferred["real_class"] is True and deferred["class"] == plain["class"]
    assert deferred["file_holds_the_class"] is True and deferred["read_again"] is True
    for key in ("lark_available", "view_definitions", "keywords", "comments", "exchange_requirements", "options"):
        assert deferred[key] == plain[key], key
    assert [view.strip() for view in plain["view_definitions"]] == ["CoordinationView_V2.0", "QuantityTakeOffAddOnView"]
    assert plain["comments"] == ["Synthetic example header"]  # ifcopenshell's reading, kept as it is


def test_other_names_load_the_real_module_even_with_the_finder_taken_out() -> None:
    """A name other than ``MvdInfo`` is forwarded; and if some code takes the finder out of
    ``sys.meta_path`` before first use, the real module still loads (no recursion into the stand-in)."""
    probe = (
        "import sys\n"
        "from converters.ifc.mvd_parser import MODULE, _finder, defer\n"
        "assert defer() is True\n"
        "import ifcopenshell.util.mvd_info as imported\n"
        "assert 'parser' not in vars(sys.modules[MODULE])\n"
        "if sys.argv[1] == 'taken-out':\n"
        "    sys.meta_path.remove(_finder)\n"
        "parsed = imported.parse_mvd(['ViewDefinition [ReferenceView]'])\n"
        "print(parsed.view_definitions, 'parser' in vars(sys.modules[MODULE]), len(dir(imported)) > 5)\n"
    )
    for mode in ("as-is", "taken-out"):
        result = subprocess.run([sys.executable, "-c", probe, mode], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.split() == ["['ReferenceView']", "True", "True"], mode


def test_a_process_that_has_imported_ifcopenshell_is_left_as_it_is() -> None:
    probe = (
        "import sys, ifcopenshell\n"
        "from converters.ifc.mvd_parser import defer\n"
        "finders = list(sys.meta_path)\n"
        "print(defer(), sys.meta_path == finders)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "True"]


def test_the_conversion_process_converts_without_building_the_parser(tmp_path: Path) -> None:
    """``converters.__main__.main`` (what ``python -m converters`` runs) defers it for an IFC input, and
    never builds it converting; for another input it leaves the import system alone."""
    probe = (
        "import json, sys\n"
        "from converters.__main__ import main\n"
        "from converters.ifc.mvd_parser import MODULE, _finder\n"
        "code = main(sys.argv[1:])\n"
        "built = 'parser' in vars(sys.modules.get(MODULE, sys))\n"
        "print(json.dumps({'code': code, 'ifcopenshell': 'ifcopenshell' in sys.modules,\n"
        "                  'built': built, 'finder': _finder in sys.meta_path}))\n"
    )
    out = tmp_path / "out"
    options = '{"jobs": 2}'
    command = [sys.executable, "-c", probe, str(SAMPLE), str(out), "--options", options]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert json.loads(lines[-2])["report"]["elements"]["converted"] > 0
    assert json.loads(lines[-1]) == {"code": 0, "ifcopenshell": True, "built": False, "finder": True}
    elsewhere = tmp_path / "not-ifc.las"
    elsewhere.write_bytes(b"not a point cloud")
    command = [sys.executable, "-c", probe, str(elsewhere), str(tmp_path / "las"), "--options", options]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    answer = json.loads(result.stdout.splitlines()[-1])
    assert answer["code"] == 2 and answer["finder"] is False

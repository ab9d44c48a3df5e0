"""A small model georeferenced and written by the forked helper (converters.ifc.georef_service).

With two jobs, a small ``.ifc`` naming a map conversion is georeferenced and written by a helper
process that imported pyproj and the tile writers while the converting process imported ifcopenshell:
the converting process must import neither pyproj nor shapely, and every output byte must be what the
in-process path (one job) writes.
"""

from __future__ import annotations

import filecmp
import json
import subprocess
import sys
from pathlib import Path

import pytest

from converters.api import convert
from converters.errors import GeoreferencingError
from converters.ifc.georef_service import SMALL_FILE_BYTES, worth_starting
from converters.options import ConvertOptions

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "ifc"
UTM = CORPUS / "geographic-referencing-utm.ifc"

pytestmark = pytest.mark.skipif(not UTM.is_file(), reason="the shared IFC corpus is not there")

_CHILD = """
import json, sys
from pathlib import Path
from converters.api import convert
from converters.options import ConvertOptions
report = convert(Path(sys.argv[1]), Path(sys.argv[2]), ConvertOptions(jobs=2))
loaded = [name for name in ("pyproj", "shapely", "meshoptimizer") if name in sys.modules]
print(json.dumps({"loaded": loaded, "report": report}))
"""


def _files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != "report.json")


def test_the_helper_converts_without_pyproj_or_shapely_here_and_writes_the_same_bytes(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-c", _CHILD, str(UTM), str(tmp_path / "two")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    child = json.loads(ran.stdout.splitlines()[-1])
    assert child["loaded"] == []  # the converting process left pyproj and the tile writers to the helper
    local = convert(UTM, tmp_path / "one", ConvertOptions(jobs=1))
    names = _files(tmp_path / "one")
    assert names == _files(tmp_path / "two") and any(name.endswith(".glb") for name in names)
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "one", tmp_path / "two", names, shallow=False)
    assert mismatch == [] and errors == []
    remote = child["report"]
    assert remote["georeferencing"] == json.loads(json.dumps(local["georeferencing"]))
    assert remote["georeferencing"]["crs"] == "EPSG:25832"
    assert remote["geoid"] == json.loads(json.dumps(local["geoid"]))  # the helper's EGM96 is reported
    for key in ("footprint_wgs84", "elements", "triangles", "vertices", "materials", "instancing", "tiles"):
        assert remote[key] == json.loads(json.dumps(local[key])), key


_FAILING_CHILD = """
import sys
from pathlib import Path
from converters.api import convert
from converters.errors import GeoreferencingError
from converters.options import ConvertOptions
try:
    convert(Path(sys.argv[1]), Path(sys.argv[2]), ConvertOptions(jobs=2))
except GeoreferencingError as error:
    print(type(error).__name__, error)
"""


def test_the_helpers_georeferencing_error_is_the_in_process_one(tmp_path: Path) -> None:
    broken = tmp_path / "unknown-crs.ifc"
    broken.write_bytes(UTM.read_bytes().replace(b"'EPSG:25832'", b"'EPSG:999999'"))
    with pytest.raises(GeoreferencingError) as caught:  # in-process (one job)
        convert(broken, tmp_path / "one", ConvertOptions(jobs=1))
    ran = subprocess.run(  # a fresh process (no pyproj yet), two jobs: the helper's error, raised here
        [sys.executable, "-c", _FAILING_CHILD, str(broken), str(tmp_path / "two")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert ran.stdout.strip() == f"GeoreferencingError {caught.value}"
    assert "EPSG:999999" in str(caught.value)


def test_the_helper_is_forked_only_for_small_ifc_files_naming_a_map_conversion(tmp_path: Path) -> None:
    assert worth_starting(UTM)
    assert not worth_starting(CORPUS / "vectorworks_unicode.ifc")  # no map conversion: no pyproj
    pset = tmp_path / "ifc2x3.ifc"
    pset.write_bytes(b"ISO-10303-21;\n#1=IFCPROPERTYSET('x',$,'ePSet_MapConversion',$,());\n")
    assert worth_starting(pset)
    large = tmp_path / "large.ifc"
    large.write_bytes(UTM.read_bytes() + b"/*" + b" " * SMALL_FILE_BYTES + b"*/")
    assert not worth_starting(large)
    zipped = tmp_path / "model.ifczip"
    zipped.write_bytes(UTM.read_bytes())
    assert not worth_starting(zipped)


def test_an_error_that_cannot_be_pickled_still_comes_back_with_its_message() -> None:
    import multiprocessing

    from converters.errors import ConversionError
    from converters.ifc.georef_service import _send_error

    class Unpicklable(ConversionError):
        def __init__(self, message: str) -> None:
            super().__init__(message)
            self.callback = lambda: None  # lambdas do not pickle

    ours, theirs = multiprocessing.Pipe()
    _send_error(theirs, Unpicklable("the map conversion names no CRS"))
    _send_error(theirs, ValueError("plain errors pickle"))
    status, error = ours.recv()
    assert status == "error" and type(error) is ConversionError
    assert str(error) == "Unpicklable: the map conversion names no CRS"
    status, error = ours.recv()
    assert type(error) is ValueError and str(error) == "plain errors pickle"

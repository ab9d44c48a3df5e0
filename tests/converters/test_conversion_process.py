"""``python -m converters``, the process the platform's workers start for each conversion: it ends with
``os._exit`` once its last line is flushed, and gives numpy's BLAS one thread (``converters/__main__``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.validators import assert_output_valid

SAMPLE = Path(__file__).resolve().parents[2] / "sample_models" / "ifc" / "ordos_kangbashi_hall_4546.ifc"

# Runs the conversion as a child of a subreaper (PR_SET_CHILD_SUBREAPER): a process the conversion
# leaves behind, alive or killed with it (its forks die with their parent), is adopted here and
# counted, then killed and reaped.
_LAUNCHER = """
import ctypes, json, os, signal, subprocess, sys, time
libc = ctypes.CDLL("libc.so.6", use_errno=True)
assert libc.prctl(36, 1, 0, 0, 0) == 0, "PR_SET_CHILD_SUBREAPER"
with open(sys.argv[1], "w") as stdout:
    code = subprocess.Popen(sys.argv[2:], stdout=stdout, stderr=subprocess.DEVNULL).wait()
time.sleep(0.3)  # a process killed with the conversion is adopted meanwhile
me = f"PPid:\\t{os.getpid()}\\n"
adopted = []
for entry in os.listdir("/proc"):
    try:
        if entry.isdigit() and me in open(f"/proc/{entry}/status").read():
            adopted.append(int(entry))
    except OSError:
        pass
for pid in adopted:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass
print(json.dumps({"code": code, "adopted": len(adopted)}))
"""


def _convert(source: Path, out: Path, tmp_path: Path, options: str) -> tuple[int, int, list[dict[str, Any]]]:
    """Exit code, processes left behind, and the JSON lines of ``python -m converters``."""
    stdout = tmp_path / "stdout.jsonl"
    command = [sys.executable, "-m", "converters", str(source), str(out), "--options", options]
    launched = subprocess.run(
        [sys.executable, "-c", _LAUNCHER, str(stdout), *command],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    ended = json.loads(launched.stdout)
    lines = [json.loads(line) for line in stdout.read_text().splitlines()]  # every line whole
    return ended["code"], ended["adopted"], lines


def test_a_conversion_ends_with_every_line_written_and_no_process_left(tmp_path: Path) -> None:
    out = tmp_path / "hall-tiles"
    code, adopted, lines = _convert(SAMPLE, out, tmp_path, '{"jobs": 2}')
    assert code == 0
    assert adopted == 0  # the georeferencing helper and the tessellation child were reaped before the exit
    assert [line for line in lines if "progress" not in line] == [lines[-1]]
    report = lines[-1]["report"]
    assert report["kind"] == "ifc" and report["elements"]["converted"] == report["elements"]["expected"] > 0
    assert report["georeferencing"]["source"] == "IfcMapConversion"  # the helper's path (small, map conversion)
    assert json.loads((out / "report.json").read_text()) == report  # the same report, whole on disk too
    assert_output_valid(out)
    assert not (out / ".work").exists()  # the converter's own scratch folder is gone


def test_a_data_error_after_the_helper_started_is_the_last_line_and_exit_code_2(tmp_path: Path) -> None:
    # the hall without its walls, slab, columns and windows: it still names a map conversion (the helper
    # starts), and fails once read: no element with geometry
    text = SAMPLE.read_text()
    hollow = tmp_path / "hollow_hall.ifc"
    hollow.write_text(re.sub(r"(?m)^#\d+=IFC(WALL|SLAB|COLUMN|WINDOW)\(.*\n", "", text))
    assert "IFCMAPCONVERSION" in hollow.read_text() and "IFCWALL(" not in hollow.read_text()
    code, adopted, lines = _convert(hollow, tmp_path / "out", tmp_path, '{"jobs": 2}')
    assert code == 2 and adopted == 0
    assert lines[-1]["kind"] == "data" and "no elements with geometry" in lines[-1]["error"]


def _blas_probe(env: dict[str, str]) -> list[str]:
    """Whether numpy was loaded by the module, the setting, and the threads after a BLAS product."""
    probe = (
        "import os, runpy, sys\n"
        "sys.argv = ['converters', '--help']\n"
        "try:\n"
        "    runpy.run_module('converters', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "numpy_before = 'numpy' in sys.modules\n"
        "import numpy\n"
        "numpy.ones((256, 256)) @ numpy.ones((256, 256))  # starts the BLAS pool, if it has one\n"
        "print(numpy_before, os.environ.get('OPENBLAS_NUM_THREADS'), len(os.listdir('/proc/self/task')))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout.splitlines()[-1].split()  # after argparse's help


def test_blas_has_one_thread_unless_the_environment_says_otherwise() -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS")
    }
    # importing the converters does not import numpy, so the setting comes before OpenBLAS reads it
    assert _blas_probe(env) == ["False", "1", "1"]
    assert _blas_probe({**env, "OMP_NUM_THREADS": "2"})[1] == "None"  # an operator's setting stands
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: OpenBLAS starts no pool threads whatever the setting")
    chosen = _blas_probe({**env, "OPENBLAS_NUM_THREADS": "2"})
    assert chosen[1] == "2" and int(chosen[2]) >= 2  # the probe sees the pool when there is one

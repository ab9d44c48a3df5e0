"""``python -m converters``, the process the platform's workers start for each conversion: it ends with
``os._exit`` once its last line is flushed, and gives numpy's BLAS one thread (``converters/__main__``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.validators import assert_output_valid

SAMPLE = Path(__file__).resolve().parents[2] / "sample_models" / "ifc" / "ordos_kangbashi_hall_4546.ifc"


def _processes_naming(text: str) -> list[str]:
    """Command lines of running processes that contain ``text`` (the conversion and its forks share one)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in command:
            found.append(f"{entry.name}: {command}")
    return found


def _lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_a_conversion_ends_with_every_line_written_and_no_process_left(tmp_path: Path) -> None:
    out = tmp_path / "hall-tiles"
    result = subprocess.run(
        [sys.executable, "-m", "converters", str(SAMPLE), str(out), "--options", '{"jobs": 2}'],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = _lines(result.stdout)  # every line whole: nothing cut off by the early exit
    assert [line for line in lines if "progress" not in line] == [lines[-1]]
    report = lines[-1]["report"]
    assert isinstance(report, dict)
    assert report["kind"] == "ifc" and report["elements"]["converted"] == report["elements"]["expected"] > 0
    assert report["georeferencing"]["source"] == "IfcMapConversion"
    written = assert_output_valid(out)
    assert written["root"]["content"] or written["root"]["children"]
    assert json.loads((out / "report.json").read_text()) == report  # the same report, whole on disk too
    assert not (out / ".work").exists()  # the converter's own scratch folder is gone
    assert _processes_naming(str(out)) == []  # the georeferencing helper and tessellators are reaped


def test_a_data_error_is_the_last_line_and_exit_code_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ifc"
    broken.write_text("ISO-10303-21;\nHEADER;\nENDSEC;\nDATA;\n#1=IFCWALL(;\nENDSEC;\nEND-ISO-10303-21;\n")
    result = subprocess.run(
        [sys.executable, "-m", "converters", str(broken), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    last = _lines(result.stdout)[-1]
    assert last["kind"] == "data" and "broken.ifc" in str(last["error"])


def test_blas_has_one_thread_unless_the_environment_says_otherwise() -> None:
    probe = (
        "import os, runpy, sys\n"
        "sys.argv = ['converters', '--help']\n"
        "try:\n"
        "    runpy.run_module('converters', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "numpy_before = 'numpy' in sys.modules\n"
        "import numpy\n"
        "numpy.ones((64, 64)) @ numpy.ones((64, 64))  # starts the BLAS pool, if it has one\n"
        "print(numpy_before, os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    numpy_before, threads_setting, threads = (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env, check=True)
        .stdout.splitlines()[-1]
        .split()
    )  # after argparse's help
    # importing the converters does not import numpy, so the setting comes before BLAS reads it
    assert (numpy_before, threads_setting, threads) == ("False", "1", "1")
    chosen = (
        subprocess.run(
            [sys.executable, "-c", probe],
            capture_output=True,
            text=True,
            timeout=120,
            env={**env, "OPENBLAS_NUM_THREADS": "2"},
        )
        .stdout.splitlines()[-1]
        .split()
    )
    assert chosen[1] == "2"  # the operator's setting stands

"""A damaged .ifczip member (CRC or deflate failure) is the uploader's data error, not an internal one
(issue 18 item 5)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from converters.errors import ConversionError
from converters.ifc.source import extract_ifczip

SAMPLE = Path(__file__).resolve().parents[2] / "sample_models" / "ifc" / "ordos_kangbashi_hall_4546.ifc"


def _damaged(tmp_path: Path) -> Path:
    archive = tmp_path / "hall.ifczip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("hall.ifc", SAMPLE.read_bytes())
    data = bytearray(archive.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the compressed member
    archive.write_bytes(bytes(data))
    return archive


def test_damaged_member_is_a_conversion_error(tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="damaged in the archive"):
        extract_ifczip(_damaged(tmp_path), tmp_path / "work")
    assert not (tmp_path / "work" / "model.ifc").exists()


def test_damaged_member_ends_the_child_as_a_data_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "converters", str(_damaged(tmp_path)), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["kind"] == "data" and "damaged" in last["error"]

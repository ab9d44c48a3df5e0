"""The layering api -> cim_platform -> converters -> tiles, checked by import-linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contract_holds() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is not installed"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken" in result.stdout


def test_contract_catches_an_upward_import(tmp_path: Path) -> None:
    """The linter really fails on a wrong import (a copy of the tree with one bad line added)."""
    tree = tmp_path / "tree"
    for package in ("api", "cim_platform", "converters", "tiles"):
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    (tree / "tiles" / "bad_upward_import.py").write_text("import cim_platform.core.settings\n")
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    result = subprocess.run([lint], cwd=tree, capture_output=True, text=True, env={"PYTHONPATH": str(tree)})
    assert result.returncode != 0
    assert "tiles.bad_upward_import -> cim_platform.core.settings" in result.stdout

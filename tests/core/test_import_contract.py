"""Import contracts: the layers api -> cim_platform -> converters -> tiles, core imports no domain, and
each domain imports only the domains it reads (generated from cim_platform/registry.py)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECK = ["scripts/check_imports.py"]


def _copy_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for package in ("api", "cim_platform", "converters", "tiles", "scripts"):
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def _check(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *CHECK], cwd=tree, capture_output=True, text=True, env={"PYTHONPATH": str(tree)}
    )


def test_import_contracts_hold() -> None:
    result = _check(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Core imports no domain" in result.stdout
    assert "0 broken" in result.stdout


def test_contract_catches_an_upward_import(tmp_path: Path) -> None:
    """The linter really fails on a wrong import (a copy of the tree with one bad line added)."""
    tree = _copy_tree(tmp_path)
    (tree / "tiles" / "bad_upward_import.py").write_text("import cim_platform.core.settings\n")
    result = _check(tree)
    assert result.returncode != 0
    assert "tiles.bad_upward_import -> cim_platform.core.settings" in result.stdout


def test_contract_catches_core_importing_a_domain(tmp_path: Path) -> None:
    tree = _copy_tree(tmp_path)
    (tree / "cim_platform" / "core" / "bad_domain_import.py").write_text("import cim_platform.datasets.models\n")
    result = _check(tree)
    assert result.returncode != 0
    assert "cim_platform.core.bad_domain_import -> cim_platform.datasets.models" in result.stdout


def test_contract_catches_a_domain_reading_an_undeclared_domain(tmp_path: Path) -> None:
    """accounts reads no other domain: importing datasets from it breaks its generated contract."""
    tree = _copy_tree(tmp_path)
    (tree / "cim_platform" / "accounts" / "bad_read.py").write_text("import cim_platform.datasets.service\n")
    result = _check(tree)
    assert result.returncode != 0
    assert "Domain accounts reads only the core BROKEN" in result.stdout

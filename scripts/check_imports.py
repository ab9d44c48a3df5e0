"""The import contracts: the layers of pyproject.toml plus the domain directions declared in
``cim_platform/registry.py`` (core imports no domain; a domain imports only the domains it reads).

Writes an import-linter configuration generated from the registry and runs ``lint-imports`` on it,
so adding a domain needs no edit here. Usage: ``python scripts/check_imports.py [--print]``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cim_platform.registry import DOMAINS  # noqa: E402

FIXED = ("cim_platform.registry", "cim_platform.migrations")


def _section(name: str, title: str, kind: str, **lists: list[str] | str) -> str:
    lines = [f"[importlinter:contract:{name}]", f"name = {title}", f"type = {kind}"]
    for key, value in lists.items():
        if isinstance(value, str):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} =\n" + "\n".join(f"    {item}" for item in value))
    return "\n".join(lines)


def configuration() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    sections = ["[importlinter]\nroot_packages =\n" + "\n".join(f"    {p}" for p in project["root_packages"])]
    for index, contract in enumerate(project.get("contracts", [])):
        extra = {k: v for k, v in contract.items() if k not in ("name", "type")}
        sections.append(_section(f"project{index}", contract["name"], contract["type"], **extra))
    names = [domain.name for domain in DOMAINS]
    every_domain = [f"{side}.{name}" for name in names for side in ("cim_platform", "api")]
    sections.append(
        _section(
            "core",
            "Core imports no domain (cim_platform.core, api.core)",
            "forbidden",
            source_modules=["cim_platform.core", "api.core"],
            forbidden_modules=every_domain + list(FIXED),
            allow_indirect_imports="True",
        )
    )
    for domain in DOMAINS:
        out_of_reach = [n for n in names if n != domain.name and n not in domain.reads]
        if not out_of_reach:
            continue
        sections.append(
            _section(
                f"domain_{domain.name}",
                f"Domain {domain.name} reads only {', '.join(domain.reads) or 'the core'}",
                "forbidden",
                source_modules=[f"cim_platform.{domain.name}", f"api.{domain.name}"],
                forbidden_modules=[f"{side}.{n}" for n in out_of_reach for side in ("cim_platform", "api")]
                + list(FIXED),
                allow_indirect_imports="True",
            )
        )
    return "\n\n".join(sections) + "\n"


def main() -> int:
    text = configuration()
    if "--print" in sys.argv:
        print(text)
        return 0
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if lint is None:
        print("error: import-linter is not installed (pip install import-linter)", file=sys.stderr)
        return 2
    with tempfile.NamedTemporaryFile("w", suffix=".ini", prefix="importlinter-") as config:
        config.write(text)
        config.flush()
        return subprocess.run([lint, config.name], cwd=ROOT).returncode


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env bash
# The whole test suite: installs what it needs, lints (ruff), checks the import contracts (layers and
# domains), type-checks (mypy --strict on every package), runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh dev
.venv/bin/ruff check .
.venv/bin/python scripts/check_imports.py
.venv/bin/mypy
exec .venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# The whole test suite: installs what it needs, lints, checks the import contract, runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh dev
.venv/bin/ruff check .
.venv/bin/python scripts/check_imports.py
exec .venv/bin/python -m pytest "$@"

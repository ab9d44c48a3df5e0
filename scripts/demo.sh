#!/usr/bin/env bash
# Brings the platform up with the demo city loaded: database, server, worker and viewer, until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
exec .venv/bin/cim demo "$@"

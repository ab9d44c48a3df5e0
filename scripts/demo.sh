#!/usr/bin/env bash
# Brings the platform up with the demo city loaded: database, server, worker and portal, until Ctrl-C.
# The setup's own output (package installs, the portal build) goes to var/logs/setup.log.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p "${CIM_DATA_DIR:-var}/logs"
log="${CIM_DATA_DIR:-var}/logs/setup.log"
echo "preparing the platform (the first run installs packages and builds the portal: a few minutes; log: $log) …"
if ! ./scripts/bootstrap.sh >"$log" 2>&1; then
  echo "error: the setup failed; the end of $log says why:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
exec .venv/bin/cim demo "$@"

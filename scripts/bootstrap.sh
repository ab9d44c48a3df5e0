#!/usr/bin/env bash
# Installs everything the platform needs on a Debian machine with Python 3.11, idempotently:
# system packages (PostgreSQL 15 + PostGIS 3, Chromium for the viewer test, PROJ grids, Node.js),
# a virtual environment with the project, the node packages (CesiumJS, the Khronos glTF validator, the portal's
# Vue/OpenLayers/Vite) and the web portal's build.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-}"

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

need_pkgs=()
"$PYTHON" -c "import ensurepip, venv" >/dev/null 2>&1 || need_pkgs+=(python3-venv)
command -v node >/dev/null 2>&1 || need_pkgs+=(nodejs npm)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need_pkgs+=(postgresql-15-postgis-3)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
[ -f /usr/share/proj/egm96_15.gtx ] || need_pkgs+=(proj-data)
[ -x /usr/bin/osgconv ] || need_pkgs+=(openscenegraph)  # reads and writes OSGB oblique-photography tiles (issue 14)
[ -x /usr/sbin/nginx ] && [ -x /usr/bin/wrk ] || need_pkgs+=(nginx-light wrk)  # nginx in front (tests, bench)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing system packages: ${need_pkgs[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q -e ".${EXTRAS:+[$EXTRAS]}"
  touch "$stamp"
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

# the web portal: portal/ built by Vite into api/static/portal (served at /), rebuilt when its sources change
portal_stamp="api/static/portal/.built-$(cat package-lock.json $(find portal -type f | sort) | sha256sum | cut -c1-16)"
if [ ! -f "$portal_stamp" ]; then
  npm run build --silent
  touch "$portal_stamp"
fi

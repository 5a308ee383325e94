#!/usr/bin/env bash
# The frontend step of the build (pom.xml, phase generate-resources):
#   install.sh SOURCE_DIR TARGET_DIR
# installs SOURCE_DIR/package.json (the official socketcluster-client) with npm into TARGET_DIR,
# whose node_modules/socketcluster-client/socketcluster-client.min.js the WAR then carries as
# js/socketcluster-client.min.js (the demo page's client). Does nothing when that install is
# up to date. Without npm, or when npm fails, it warns and the build goes on: the WAR is then
# built without the client (the demo page says so); set AGSERVER_FRONTEND_REQUIRED=1 (CI does)
# to fail instead.
set -uo pipefail
src=$1 dir=$2
client=$dir/node_modules/socketcluster-client/socketcluster-client.min.js

if [ -f "$client" ] && [ ! "$src/package.json" -nt "$dir/package.json" ]; then
  exit 0
fi
fail() {
  if [ "${AGSERVER_FRONTEND_REQUIRED:-}" = 1 ]; then
    echo "frontend: ERROR: $*" >&2
    exit 1
  fi
  echo "[WARNING] frontend: $*; the WAR is built without js/socketcluster-client.min.js (the demo page will say so)" >&2
  exit 0
}
command -v npm >/dev/null 2>&1 || fail "npm is not installed"
mkdir -p "$dir" || fail "cannot create $dir"
cp "$src/package.json" "$dir/package.json" || fail "cannot copy $src/package.json"
echo "frontend: npm install in $dir"
( cd "$dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error ) < /dev/null \
  || { rm -f "$dir/package.json"; fail "npm install failed"; }
[ -f "$client" ] || { rm -f "$dir/package.json"; fail "$client is missing after npm install"; }

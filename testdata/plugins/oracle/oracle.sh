#!/usr/bin/env bash
# oracle.sh COMPONENT.wasm SCENARIO.json
# Runs a plugin component under a jco-transpiled JavaScript host (an independent canonical-ABI
# implementation) and prints canonical JSON lines (see ../README.md). The transpiled host is
# cached under $CHIPHOST_PLUGIN_CACHE/wit-component/oracle/<sha256 of the wasm>.
set -euo pipefail
[ $# = 2 ] || { echo "usage: $0 COMPONENT.wasm SCENARIO.json" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${CHIPHOST_PLUGIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chiphost-plugins}
TOOLS=$CACHE/wit-component
LOCK=$HERE/../tools/wit-component/package-lock.json
if ! cmp -s "$LOCK" "$TOOLS/package-lock.json" || [ ! -d "$TOOLS/node_modules" ]; then
  mkdir -p "$TOOLS"
  cp "$HERE/../tools/wit-component/package.json" "$LOCK" "$TOOLS/"
  (cd "$TOOLS" && npm ci -s --no-audit --no-fund)
fi
# transpile.mjs must sit next to node_modules to resolve jco-transpile.
cp "$HERE/transpile.mjs" "$HERE/logging.js" "$HERE/sandbox.js" "$TOOLS/"
key=$( (sha256sum "$1"; sha256sum "$HERE/transpile.mjs" "$HERE/logging.js" "$HERE/sandbox.js") | sha256sum | cut -c1-32)
dir=$TOOLS/oracle/$key
if [ ! -f "$dir/plugin.js" ]; then
  rm -rf "$dir.tmp"
  node "$TOOLS/transpile.mjs" "$1" "$dir.tmp"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
exec node "$HERE/run.mjs" "$dir/plugin.js" "$2"

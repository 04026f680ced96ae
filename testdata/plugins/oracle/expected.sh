#!/usr/bin/env bash
# expected.sh [--check]
# Runs every scenarios/<plugin>*.json through the jco oracle and writes the matching
# scenarios/<name>.expected.jsonl; with --check, compares instead and fails on a difference.
# The plugin is chosen by the scenario name's prefix. string_parser scenarios are also run
# against the JavaScript build (js_string_parser), which must give identical output.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
P=$HERE/..
CHECK=0; [ "${1:-}" = --check ] && CHECK=1
plugin_for() {
  case "$(basename "$1")" in
    string_parser*) echo "$P/parsers/string_parser/string_parser.wasm" ;;
    file_source*) echo "$P/bytesources/file_source/file_source.wasm" ;;
    go_records*) echo "$P/parsers/go_records/go_records.wasm" ;;
    hostile*) echo "$P/hostile/hostile.wasm" ;;
    *) echo "expected.sh: no plugin for $1" >&2; exit 1 ;;
  esac
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bad=0
for s in "$HERE"/scenarios/*.json; do
  name=$(basename "$s" .json)
  exp=$HERE/scenarios/$name.expected.jsonl
  "$HERE/oracle.sh" "$(plugin_for "$s")" "$s" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  if [[ $name == string_parser* ]]; then
    "$HERE/oracle.sh" "$P/parsers/js_string_parser/js_string_parser.wasm" "$s" >"$tmp/js" 2>/dev/null
    cmp -s "$tmp/out" "$tmp/js" || { echo "expected.sh: $name: js_string_parser differs from string_parser" >&2; diff "$tmp/out" "$tmp/js" >&2 || true; bad=1; }
  fi
  if [ $CHECK = 1 ]; then
    cmp -s "$tmp/out" "$exp" || { echo "expected.sh: $name: oracle output differs from $(basename "$exp")" >&2; diff "$exp" "$tmp/out" >&2 || true; bad=1; }
  else
    cp "$tmp/out" "$exp"
  fi
done
[ $bad = 0 ] && echo "expected.sh: ok" >&2
exit $bad

#!/usr/bin/env bash
# expected.sh [--check]
# Runs every scenarios/<plugin>*.json through the jco oracle and writes the matching
# scenarios/<name>.expected.jsonl; with --check, compares instead and fails on a difference.
# The plugin is chosen by the scenario name's prefix: string_parser* runs the cut-independent
# string_parser, chipmunk_string_parser* its Chipmunk-faithful build (compat/string_parser_chipmunk).
# Twins must give identical output: the JavaScript builds (js_string_parser, Chipmunk-faithful,
# and js_wasi_string_parser, the same code with WASI 0.2 on) for every chipmunk_string_parser* scenario, and both faithful builds for string_parser_init* (init
# is the same in every build), and the build against the producer draft's WIT layout
# (compat/string_parser_draft) and composed/nested.wasm, which nests string_parser, for every
# string_parser* scenario. utf16_lines* runs the utf16 build of src/wat/lines16.wat; jco cannot
# transpile its latin1+utf16 build, which runtime/oracle_test.go checks against the same expected
# output.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
P=$HERE/..
CHECK=0; [ "${1:-}" = --check ] && CHECK=1
plugin_for() {
  case "$(basename "$1")" in
    string_parser*) echo "$P/parsers/string_parser/string_parser.wasm" ;;
    chipmunk_string_parser*) echo "$P/compat/string_parser_chipmunk/string_parser_chipmunk.wasm" ;;
    file_source*) echo "$P/bytesources/file_source/file_source.wasm" ;;
    file_producer*) echo "$P/producers/file_producer/file_producer.wasm" ;;
    js_file_producer*) echo "$P/wasip2/js_file_producer/js_file_producer.wasm" ;;
    go_records*) echo "$P/parsers/go_records/go_records.wasm" ;;
    hostile*) echo "$P/hostile/hostile.wasm" ;;
    utf16_lines*) echo "$P/compat/utf16_lines/utf16_lines.wasm" ;;
    *) echo "expected.sh: no plugin for $1" >&2; exit 1 ;;
  esac
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bad=0
for s in "$HERE"/scenarios/*.json; do
  name=$(basename "$s" .json)
  exp=$HERE/scenarios/$name.expected.jsonl
  "$HERE/oracle.sh" "$(plugin_for "$s")" "$s" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  twins=()
  case $name in
    chipmunk_string_parser*) twins=(parsers/js_string_parser/js_string_parser.wasm wasip2/js_wasi_string_parser/js_wasi_string_parser.wasm) ;;
    string_parser_init*) twins=(compat/string_parser_draft/string_parser_draft.wasm composed/nested.wasm compat/string_parser_chipmunk/string_parser_chipmunk.wasm
      parsers/js_string_parser/js_string_parser.wasm wasip2/js_wasi_string_parser/js_wasi_string_parser.wasm) ;;
    file_producer_missing_file*) ;; # the JavaScript producer names WASI 0.2 error codes
    file_producer*) twins=(wasip2/js_file_producer/js_file_producer.wasm) ;;
    string_parser*) twins=(compat/string_parser_draft/string_parser_draft.wasm composed/nested.wasm) ;;
  esac
  for twin in "${twins[@]}"; do
    "$HERE/oracle.sh" "$P/$twin" "$s" >"$tmp/twin" 2>/dev/null
    cmp -s "$tmp/out" "$tmp/twin" || { echo "expected.sh: $name: $(basename "$twin" .wasm) differs from $(basename "$(plugin_for "$s")" .wasm)" >&2; diff "$tmp/out" "$tmp/twin" >&2 || true; bad=1; }
  done
  if [ $CHECK = 1 ]; then
    cmp -s "$tmp/out" "$exp" || { echo "expected.sh: $name: oracle output differs from $(basename "$exp")" >&2; diff "$exp" "$tmp/out" >&2 || true; bad=1; }
  else
    cp "$tmp/out" "$exp"
  fi
done
[ $bad = 0 ] && echo "expected.sh: ok" >&2
exit $bad

#!/usr/bin/env bash
# Builds chiphost's test plugins with foreign toolchains (Debian clang + wasi-libc, Go wasip1,
# componentize-js) and wraps core modules into components with wit-component (wasm build inside
# npm @bytecodealliance/jco-transpile). Only apt, npm and the Go toolchain are used.
#
#   build.sh           build every fixture into place (JS ones only if missing)
#   build.sh --js      also rebuild the JavaScript fixtures (not byte-reproducible)
#   build.sh --check   rebuild the deterministic fixtures (C, Go, WAT, core modules, nested, ...) into a temp
#                      dir and compare them byte for byte with the committed files
#
# Environment: WIT (default: <repo>/wit/v0.1.0), WIT_DRAFT (the producer draft layout, default
# <repo>/wit/producer-draft/v0.1.0), CHIPHOST_PLUGIN_CACHE (npm installs and the
# adapter; default ${XDG_CACHE_HOME:-~/.cache}/chiphost-plugins).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WIT=${WIT:-$ROOT/wit/v0.1.0}
WIT_DRAFT=${WIT_DRAFT:-$ROOT/wit/producer-draft/v0.1.0}
CACHE=${CHIPHOST_PLUGIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chiphost-plugins}

# Pinned versions (keep in sync with tools/*/package.json and README.md).
CLANG=clang-19
GO_TOOLCHAIN=go1.26.8   # the Go version is recorded in the module; others give different bytes
JCO_ADAPTER_VERSION=1.35.0
ADAPTER_SHA256=b857310c4753c8fafaa0f890e9ccf978dc3d9dbe8804b1125291a627485041d0
CFLAGS=(--target=wasm32-wasi -mexec-model=reactor -O2 -Wall)

MODE=build
case "${1:-}" in
  "") ;;
  --js) MODE=js ;;
  --check) MODE=check ;;
  *) echo "usage: $0 [--js|--check]" >&2; exit 2 ;;
esac

log() { echo "build.sh: $*" >&2; }
[ -f "$WIT/world.wit" ] || { log "WIT directory $WIT not found (set WIT=...)"; exit 1; }
WIT=$(cd "$WIT" && pwd)
[ -f "$WIT_DRAFT/world.wit" ] || { log "WIT directory $WIT_DRAFT not found (set WIT_DRAFT=...)"; exit 1; }
WIT_DRAFT=$(cd "$WIT_DRAFT" && pwd)

# --- toolchains ----------------------------------------------------------------
if ! command -v $CLANG >/dev/null || ! command -v wasm-ld-19 >/dev/null || [ ! -f /usr/lib/wasm32-wasi/crt1-reactor.o ] \
  || [ ! -f /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a ]; then
  log "installing clang-19, lld-19, libclang-rt-19-dev-wasm32, wasi-libc"
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  for i in 1 2 3 4 5 6; do $SUDO apt-get update -qq && break; log "apt busy, retrying"; sleep 10; done
  for i in 1 2 3 4 5 6; do
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc >/dev/null && break
    log "apt busy, retrying"; sleep 10
  done
fi

# npm_tools DIR: `npm ci` of tools/DIR/package-lock.json into $CACHE/DIR (re-run when the lock changes).
npm_tools() {
  local src=$HERE/tools/$1 dst=$CACHE/$1
  mkdir -p "$dst"
  if ! cmp -s "$src/package-lock.json" "$dst/package-lock.json" || [ ! -d "$dst/node_modules" ]; then
    log "npm ci in $dst"
    cp "$src/package.json" "$src/package-lock.json" "$dst/"
    (cd "$dst" && npm ci -s --no-audit --no-fund)
  fi
}
npm_tools wit-component
cp "$HERE/tools/wit-component/wasm-tools.mjs" "$CACHE/wit-component/"
WT="node $CACHE/wit-component/wasm-tools.mjs"

ADAPTER=$CACHE/adapter/wasi_snapshot_preview1.reactor.wasm
if ! echo "$ADAPTER_SHA256  $ADAPTER" | sha256sum -c --status 2>/dev/null; then
  log "fetching the WASI reactor adapter from npm @bytecodealliance/jco@$JCO_ADAPTER_VERSION"
  mkdir -p "$CACHE/adapter"
  (cd "$CACHE/adapter" && npm pack -s "@bytecodealliance/jco@$JCO_ADAPTER_VERSION" >/dev/null \
    && tar -xzf "bytecodealliance-jco-$JCO_ADAPTER_VERSION.tgz" --strip-components=2 package/lib/wasi_snapshot_preview1.reactor.wasm)
  echo "$ADAPTER_SHA256  $ADAPTER" | sha256sum -c --status || { log "adapter checksum mismatch"; exit 1; }
fi

# --- deterministic fixtures --------------------------------------------------------
# build_det OUT_ROOT: C and Go plugins, core modules, the WAT parsers, hostile/utf8_as_utf16.wasm,
# composed/nested.wasm, all under OUT_ROOT.
build_det() {
  local out=$1 tmp
  tmp=$(mktemp -d)
  mkdir -p "$out"/{parsers/string_parser,parsers/go_records,bytesources/file_source,hostile,negative,core,compat/string_parser_chipmunk,composed}
  local c=$HERE/src/c
  $CLANG "${CFLAGS[@]}" -msimd128 -o "$out/core/string_parser.core.wasm" "$c/string_parser.c"
  # The Chipmunk-faithful build, under the same file name (the name section records it), so that
  # it is byte-identical to the string_parser fixture that preceded the cut-independent one.
  mkdir -p "$tmp/faithful"
  $CLANG "${CFLAGS[@]}" -msimd128 -DCHIPMUNK_FAITHFUL -o "$tmp/faithful/string_parser.core.wasm" "$c/string_parser.c"
  $CLANG "${CFLAGS[@]}" -o "$out/core/file_source.core.wasm" "$c/file_source.c"
  $CLANG "${CFLAGS[@]}" -o "$tmp/hostile.core.wasm" "$c/hostile.c"
  $CLANG "${CFLAGS[@]}" -o "$tmp/fs_probe.core.wasm" "$c/fs_probe.c"
  $CLANG "${CFLAGS[@]}" -o "$tmp/odd_schema.core.wasm" "$c/odd_schema.c"
  $CLANG "${CFLAGS[@]}" -o "$tmp/file_producer.core.wasm" "$c/file_producer.c"
  $CLANG "${CFLAGS[@]}" -o "$out/hostile/sleeper.core.wasm" "$c/sleeper.c"
  $CLANG "${CFLAGS[@]}" -o "$out/hostile/wasip2_probe.core.wasm" "$c/wasip2_probe.c"
  (cd "$HERE/src/go" && GOTOOLCHAIN=$GO_TOOLCHAIN GOOS=wasip1 GOARCH=wasm GOFLAGS= CGO_ENABLED=0 \
    go build -buildmode=c-shared -trimpath -buildvcs=false -o "$tmp/go_records.core.wasm" .)

  $WT component "$out/core/string_parser.core.wasm" "$WIT" chipmunk:parser/parse \
    "$out/parsers/string_parser/string_parser.wasm" "$ADAPTER"
  $WT component "$tmp/faithful/string_parser.core.wasm" "$WIT" chipmunk:parser/parse \
    "$out/compat/string_parser_chipmunk/string_parser_chipmunk.wasm" "$ADAPTER"
  $WT component "$out/core/file_source.core.wasm" "$WIT" chipmunk:bytesource/bytesource \
    "$out/bytesources/file_source/file_source.wasm" "$ADAPTER"
  $WT component "$tmp/hostile.core.wasm" "$WIT" chipmunk:parser/parse "$out/hostile/hostile.wasm" "$ADAPTER"
  $WT component "$tmp/fs_probe.core.wasm" "$WIT" chipmunk:parser/parse "$out/hostile/fs_probe.wasm" "$ADAPTER"
  $WT component "$tmp/odd_schema.core.wasm" "$WIT" chipmunk:parser/parse "$out/hostile/odd_schema.wasm" "$ADAPTER"
  $WT component "$tmp/go_records.core.wasm" "$WIT" chipmunk:parser/parse \
    "$out/parsers/go_records/go_records.wasm" "$ADAPTER"
  $WT component "$out/core/string_parser.core.wasm" "$WIT" chipmunk:parser/parse \
    "$out/hostile/utf8_as_utf16.wasm" "$ADAPTER" utf16
  $WT nest "$out/parsers/string_parser/string_parser.wasm" "$out/composed/nested.wasm"
  # The same string_parser core module against the producer draft's layout, where the column types
  # are imported from chipmunk:shared/shared-types instead of being defined in parse-types.
  mkdir -p "$out/compat/string_parser_draft" "$out/producers/file_producer"
  $WT component "$tmp/file_producer.core.wasm" "$WIT_DRAFT" chipmunk:producer/produce \
    "$out/producers/file_producer/file_producer.wasm" "$ADAPTER"
  $WT component "$out/core/string_parser.core.wasm" "$WIT_DRAFT" chipmunk:parser/parse \
    "$out/compat/string_parser_draft/string_parser_draft.wasm" "$ADAPTER"
  # lines16: one WAT source, assembled as is (utf16) and with $compact set to 1 (latin1+utf16).
  mkdir -p "$out/compat/utf16_lines" "$out/compat/latin1_lines"
  local wat=$HERE/src/wat/lines16.wat
  sed 's/^  (global \$compact i32 (i32.const 0))/  (global $compact i32 (i32.const 1))/' "$wat" >"$tmp/latin1_lines.wat"
  grep -q '^  (global \$compact i32 (i32.const 1))' "$tmp/latin1_lines.wat" || { log "src/wat/lines16.wat: no \$compact global to set"; exit 1; }
  $WT parse "$wat" "$tmp/utf16_lines.core.wasm"
  $WT parse "$tmp/latin1_lines.wat" "$tmp/latin1_lines.core.wasm"
  $WT component "$tmp/utf16_lines.core.wasm" "$WIT" chipmunk:parser/parse "$out/compat/utf16_lines/utf16_lines.wasm" - utf16
  $WT component "$tmp/latin1_lines.core.wasm" "$WIT" chipmunk:parser/parse \
    "$out/compat/latin1_lines/latin1_lines.wasm" - compact-utf16
  rm -rf "$tmp"
}

DET_FILES=(
  parsers/string_parser/string_parser.wasm
  compat/string_parser_chipmunk/string_parser_chipmunk.wasm
  parsers/go_records/go_records.wasm
  bytesources/file_source/file_source.wasm
  hostile/hostile.wasm
  hostile/fs_probe.wasm
  hostile/odd_schema.wasm
  hostile/sleeper.core.wasm
  hostile/utf8_as_utf16.wasm
  hostile/wasip2_probe.core.wasm
  composed/nested.wasm
  compat/string_parser_draft/string_parser_draft.wasm
  compat/utf16_lines/utf16_lines.wasm
  compat/latin1_lines/latin1_lines.wasm
  producers/file_producer/file_producer.wasm
  core/string_parser.core.wasm
  core/file_source.core.wasm
)

if [ "$MODE" = check ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  build_det "$out"
  bad=0
  for f in "${DET_FILES[@]}"; do
    if ! cmp -s "$out/$f" "$HERE/$f"; then
      log "MISMATCH: testdata/plugins/$f differs from a fresh build (rebuild with testdata/plugins/build.sh and commit)"
      bad=1
    fi
  done
  [ $bad = 0 ] || exit 1
  log "ok: ${#DET_FILES[@]} deterministic fixtures match their sources"
  exit 0
fi

build_det "$HERE"

# --- JavaScript fixtures (componentize-js / StarlingMonkey; not byte-reproducible) -------
JS_OUT=$HERE/parsers/js_string_parser/js_string_parser.wasm
P2_OUT=$HERE/negative/p2_imports.wasm
WASI_OUT=$HERE/wasip2/js_wasi_string_parser/js_wasi_string_parser.wasm
JSP_OUT=$HERE/wasip2/js_file_producer/js_file_producer.wasm
if [ "$MODE" = js ] || [ ! -f "$JS_OUT" ] || [ ! -f "$P2_OUT" ] || [ ! -f "$WASI_OUT" ] || [ ! -f "$JSP_OUT" ]; then
  npm_tools componentize-js
  CJS=$CACHE/componentize-js/node_modules/.bin/componentize-js
  mkdir -p "$(dirname "$JS_OUT")"
  log "componentize-js: js_string_parser (no WASI)"
  "$CJS" "$HERE/src/js/string_parser.js" -w "$WIT" -n chipmunk:parser/parse \
    -d stdio random clocks http fetch-event -o "$JS_OUT" >/dev/null
  log "componentize-js: negative/p2_imports (default features: direct WASI p2 imports)"
  "$CJS" "$HERE/src/js/string_parser.js" -w "$WIT" -n chipmunk:parser/parse -o "$P2_OUT" >/dev/null
  log "componentize-js: wasip2/js_wasi_string_parser (WASI 0.2 on, http off: direct WASI p2 imports)"
  mkdir -p "$(dirname "$WASI_OUT")"
  "$CJS" "$HERE/src/js/string_parser.js" -w "$WIT" -n chipmunk:parser/parse \
    -d http fetch-event -o "$WASI_OUT" >/dev/null
  # The JavaScript producer imports wasi:filesystem/preopens itself: its world (src/js/file_producer)
  # sits next to the producer draft's packages and the WASI 0.2.12 packages componentize-js ships.
  log "componentize-js: wasip2/js_file_producer (a producer reading its file through wasi:filesystem)"
  jwit=$(mktemp -d)
  builtin=$CACHE/componentize-js/node_modules/@bytecodealliance/jco/lib/wit/builtin/0.2.12
  mkdir -p "$jwit/deps" "$(dirname "$JSP_OUT")"
  cp "$HERE/src/js/file_producer/world.wit" "$jwit/"
  cp -r "$WIT_DRAFT/deps/shared" "$WIT_DRAFT/deps/parser" "$WIT_DRAFT/deps/producer" "$jwit/deps/"
  for p in filesystem io clocks; do cp -r "$builtin/wasi-$p" "$jwit/deps/$p"; done
  "$CJS" "$HERE/src/js/file_producer/file_producer.js" -w "$jwit" -n file-producer \
    -d http fetch-event -o "$JSP_OUT" >/dev/null
  rm -rf "$jwit"
fi

ls -l "${DET_FILES[@]/#/$HERE/}" "$JS_OUT" "$P2_OUT" "$WASI_OUT" "$JSP_OUT" | awk '{print $5, $NF}' >&2

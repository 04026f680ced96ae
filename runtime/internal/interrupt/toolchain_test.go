package interrupt

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// goGuest is a Go wasip1 reactor whose exports loop in the ways real code does: range
// loops, sort.Ints, strings.Builder and strconv, and a loop that never ends.
const goGuest = `package main

import (
	"sort"
	"strconv"
	"strings"
)

func main() {}

var buf []byte

//go:wasmexport sum_slice
func sumSlice(n int32) int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i) * int64(i) % 1000
	}
	var t int64
	for _, v := range s {
		t += v
	}
	return t
}

//go:wasmexport sort_check
func sortCheck(n int32) int64 {
	xs := make([]int, n)
	x := uint32(12345)
	for i := range xs {
		x = x*1103515245 + 12345
		xs[i] = int(x >> 8)
	}
	sort.Ints(xs)
	var h int64
	for i, v := range xs {
		h = h*31 + int64(v) ^ int64(i)
	}
	return h
}

//go:wasmexport build_string
func buildString(n int32) int64 {
	var b strings.Builder
	for i := 0; i < int(n); i++ {
		b.WriteString(strconv.Itoa(i * 7))
		b.WriteByte(',')
	}
	s := b.String()
	var h int64
	for i := 0; i < len(s); i++ {
		h = h*131 + int64(s[i])
	}
	return h ^ int64(len(s))<<40
}

//go:wasmexport fill
func fill(n int32) {
	buf = make([]byte, n)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
}

//go:wasmexport sum_buf
func sumBuf() int64 {
	var s int64
	for _, c := range buf {
		s += int64(c)
	}
	return s
}

//go:wasmexport spin
func spin(n int32) int32 {
	x := uint32(n)
	for {
		x = x*3 + 1
		if x == 0 && n == 123456789 {
			return int32(x)
		}
	}
}
`

// cGuest is the same idea in C, built as a wasi-libc reactor.
const cGuest = `#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT(name) __attribute__((export_name(name)))

static uint8_t *buf;

EXPORT("fill") uint8_t *fill(uint32_t n) {
	free(buf);
	buf = malloc(n);
	for (uint32_t i = 0; i < n; i++) buf[i] = (uint8_t)(i * 7);
	return buf;
}

EXPORT("sum_bytes") uint32_t sum_bytes(const uint8_t *p, uint32_t n) {
	uint32_t s = 0;
	for (uint32_t i = 0; i < n; i++) s += p[i];
	return s;
}

static int cmp(const void *a, const void *b) {
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

EXPORT("sort_check") uint64_t sort_check(uint32_t n) {
	uint32_t *xs = malloc(n * sizeof *xs);
	uint32_t x = 12345;
	for (uint32_t i = 0; i < n; i++) { x = x * 1103515245u + 12345u; xs[i] = x >> 8; }
	qsort(xs, n, sizeof *xs, cmp);
	uint64_t h = 0;
	for (uint32_t i = 0; i < n; i++) h = h * 31 + (xs[i] ^ i);
	free(xs);
	return h;
}

EXPORT("build_string") uint64_t build_string(uint32_t n) {
	size_t cap = 16, len = 0;
	char *s = malloc(cap);
	for (uint32_t i = 0; i < n; i++) {
		char tmp[16];
		int k = snprintf(tmp, sizeof tmp, "%u,", i * 7);
		if (len + k + 1 > cap) { cap *= 2; s = realloc(s, cap); }
		memcpy(s + len, tmp, k);
		len += k;
	}
	uint64_t h = 0;
	for (size_t i = 0; i < len; i++) h = h * 131 + (uint8_t)s[i];
	free(s);
	return h ^ ((uint64_t)len << 40);
}

volatile uint32_t sink;

EXPORT("spin") uint32_t spin(uint32_t n) {
	for (uint32_t x = n;;) { x = x * 3 + 1; sink = x; }
}
`

// buildGoGuest builds goGuest with the go command, or skips the test.
func buildGoGuest(t testing.TB) []byte {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found; skipping the Go wasip1 module")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(goGuest), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "guest.wasm")
	cmd := exec.Command(goCmd, "build", "-buildmode=c-shared", "-o", out, "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOWORK=off", "GO111MODULE=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (wasip1): %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// buildCGuest builds cGuest with clang-19 for wasm32-wasi. It skips the test only when
// an optional tool is missing (clang-19, wasm-ld-19, wasi-libc or the wasm32 builtins);
// with all of them present, a failed build fails the test.
func buildCGuest(t testing.TB, flags ...string) []byte {
	t.Helper()
	clang := wasiClang(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "guest.c")
	if err := os.WriteFile(src, []byte(cGuest), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "guest.wasm")
	args := append([]string{"--target=wasm32-wasi", "-mexec-model=reactor", "-o", out}, flags...)
	cmd := exec.Command(clang, append(args, src)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang-19 --target=wasm32-wasi: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// wasiClang returns the path of clang-19 after checking that the pieces a wasm32-wasi
// build needs are installed, or skips the test naming the missing one.
func wasiClang(t testing.TB) string {
	t.Helper()
	const install = "apt: clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc"
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		t.Skipf("clang-19 not found, skipping the C module (%s)", install)
	}
	if _, err := exec.LookPath("wasm-ld-19"); err != nil {
		t.Skipf("wasm-ld-19 not found, skipping the C module (%s)", install)
	}
	for _, q := range []string{"-print-file-name=libc.a", "-print-libgcc-file-name"} {
		b, err := exec.Command(clang, "--target=wasm32-wasi", q).Output()
		p := strings.TrimSpace(string(b))
		if err != nil || !filepath.IsAbs(p) {
			t.Skipf("clang-19 %s: %q, %v: wasi-libc or the wasm32 builtins are not installed, skipping the C module (%s)", q, p, err, install)
		}
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%v: skipping the C module (%s)", err, install)
		}
	}
	return clang
}

// instantiateWASI compiles bin with the given config, instantiates it with WASI and
// without running start functions, then calls _initialize. The module is watched for
// entries into its "spin" export (see assertInterrupts).
func instantiateWASI(t testing.TB, cfg wazero.RuntimeConfig, bin []byte) api.Module {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	w := newSpinWatch()
	compiled, err := rt.CompileModule(w.context(ctx), bin)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	mod, err := rt.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithStartFunctions())
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	if _, err := mod.ExportedFunction("_initialize").Call(ctx); err != nil {
		t.Fatalf("_initialize: %v", err)
	}
	return &watchedModule{Module: mod, spinEntered: w}
}

// compareCalls runs each call on both modules and requires equal results.
func compareCalls(t *testing.T, plain, inst api.Module, calls []call) {
	t.Helper()
	ctx := context.Background()
	for _, c := range calls {
		want, err := plain.ExportedFunction(c.fn).Call(ctx, c.args...)
		if err != nil {
			t.Fatalf("plain %s%v: %v", c.fn, c.args, err)
		}
		got, err := inst.ExportedFunction(c.fn).Call(ctx, c.args...)
		if err != nil {
			t.Fatalf("instrumented %s%v: %v", c.fn, c.args, err)
		}
		if len(got) != len(want) || (len(want) > 0 && got[0] != want[0]) {
			t.Errorf("%s%v: instrumented %v, plain %v", c.fn, c.args, got, want)
		}
	}
}

func TestToolchainModules(t *testing.T) {
	tests := []struct {
		name  string
		build func(testing.TB) []byte
		calls []call
	}{
		{
			name:  "go wasip1",
			build: buildGoGuest,
			calls: []call{
				{fn: "sum_slice", args: []uint64{100000}},
				{fn: "sort_check", args: []uint64{50000}},
				{fn: "build_string", args: []uint64{20000}},
				{fn: "fill", args: []uint64{1 << 20}},
				{fn: "sum_buf"},
			},
		},
		{
			name:  "c O2",
			build: func(t testing.TB) []byte { return buildCGuest(t, "-O2") },
			calls: cCalls(),
		},
		{
			name:  "c O2 simd128",
			build: func(t testing.TB) []byte { return buildCGuest(t, "-O2", "-msimd128") },
			calls: cCalls(),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bin := tc.build(t)
			out, stats, err := Instrument(bin)
			if err != nil {
				t.Fatalf("Instrument: %v", err)
			}
			t.Logf("%d bytes -> %d bytes; %d loops in %d functions", len(bin), len(out), stats.Loops, stats.Functions)
			if stats.Loops == 0 {
				t.Fatal("no loops instrumented")
			}
			cfg := wazero.NewRuntimeConfigCompiler()
			plain := instantiateWASI(t, cfg, bin)
			inst := instantiateWASI(t, cfg, out)
			calls := tc.calls
			if tc.name != "go wasip1" {
				// sum_bytes reads the buffer that fill returns: pass its address.
				calls = withFillPointer(t, plain, inst, calls)
			}
			compareCalls(t, plain, inst, calls)
			assertInterrupts(t, inst, "spin", 1)
		})
	}
}

// cCalls are the calls made on the C guest; sum_bytes gets the fill pointer at run time.
func cCalls() []call {
	return []call{
		{fn: "sort_check", args: []uint64{50000}},
		{fn: "build_string", args: []uint64{20000}},
		{fn: "sum_bytes", args: []uint64{0, 1 << 20}},
	}
}

// withFillPointer calls fill(1 MiB) on both modules, checks they return the same
// address, and returns calls with that address as sum_bytes' first argument.
func withFillPointer(t *testing.T, plain, inst api.Module, calls []call) []call {
	t.Helper()
	ctx := context.Background()
	p1, err1 := plain.ExportedFunction("fill").Call(ctx, 1<<20)
	p2, err2 := inst.ExportedFunction("fill").Call(ctx, 1<<20)
	if err1 != nil || err2 != nil || p1[0] != p2[0] {
		t.Fatalf("fill: plain %v %v, instrumented %v %v", p1, err1, p2, err2)
	}
	out := make([]call, len(calls))
	for i, c := range calls {
		out[i] = c
		if c.fn == "sum_bytes" {
			out[i].args = []uint64{p1[0], c.args[1]}
		}
	}
	return out
}

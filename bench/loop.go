package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// loopPasses is how many times the loop plugin hashes its input per call,
// so that the copy into the guest is a small part of a call.
const loopPasses = 8

// loopC is a bare core-module parser whose parse runs a tight loop: FNV-1a
// over the input, loopPasses times, unrolling disabled (one back edge, so
// one interrupt check, per byte: the worst case for the checks). It returns
// one item without a message that consumes everything. No libc, no imports.
var loopC = fmt.Sprintf(`#include <stdint.h>
#define EXPORT(n) __attribute__((export_name(n)))
#define IFACE "chipmunk:parser/parser@0.1.0#"
extern unsigned char __heap_base;
static uintptr_t top;
static _Alignas(8) uint8_t ret[16];
static _Alignas(8) uint8_t item[96];
volatile uint32_t result;

EXPORT("cabi_realloc") void *cabi_realloc(void *old, uint32_t old_size, uint32_t align, uint32_t size) {
  (void)old_size;
  if (old) __builtin_trap();
  if (!size) return (void *)(uintptr_t)align;
  if (!top) top = (uintptr_t)&__heap_base;
  top = (top + align - 1) & ~(uintptr_t)(align - 1);
  uintptr_t p = top;
  top += size;
  uintptr_t have = __builtin_wasm_memory_size(0) * 65536u;
  if (top > have && __builtin_wasm_memory_grow(0, (top - have + 65535) / 65536) == (uintptr_t)-1) __builtin_trap();
  return (void *)p;
}
EXPORT(IFACE "get-version") uint8_t *get_version(void) {
  ((uint16_t *)ret)[0] = 0; ((uint16_t *)ret)[1] = 1; ((uint16_t *)ret)[2] = 0;
  return ret;
}
EXPORT(IFACE "get-config-schemas") uint8_t *get_config_schemas(void) {
  ((uint32_t *)ret)[0] = 4; ((uint32_t *)ret)[1] = 0;
  return ret;
}
EXPORT(IFACE "get-render-options") uint8_t *get_render_options(void) { ret[0] = 0; return ret; }
EXPORT(IFACE "init") uint8_t *init(int32_t level, uint8_t *items, uint32_t n) {
  (void)level; (void)items; (void)n;
  ret[0] = 0;
  return ret;
}
EXPORT(IFACE "parse") uint8_t *parse(uint8_t *data, uint32_t len, int32_t has_ts, int64_t ts) {
  (void)has_ts; (void)ts;
  uint32_t h = 2166136261u;
  for (int pass = 0; pass < %d; pass++) {
#pragma clang loop unroll(disable)
    for (uint32_t i = 0; i < len; i++) h = (h ^ data[i]) * 16777619u;
  }
  result = h;
  item[0] = 0;
  *(uint64_t *)(item + 88) = len;
  ret[0] = 0;
  *(uint32_t *)(ret + 4) = (uint32_t)(uintptr_t)item;
  *(uint32_t *)(ret + 8) = 1;
  return ret;
}
EXPORT("cabi_post_" IFACE "parse") void post_parse(uint8_t *r) { (void)r; top = 0; }
`, loopPasses)

// buildLoop compiles loopC with clang-19 into dir/loop.wasm.
func buildLoop(ctx context.Context, dir string) (string, error) {
	clang, err := exec.LookPath("clang-19")
	if err != nil {
		return "", fmt.Errorf("clang-19 not found: %w", err)
	}
	src := filepath.Join(dir, "loop.c")
	out := filepath.Join(dir, "loop.wasm")
	if err := os.WriteFile(src, []byte(loopC), 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, clang, "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-o", out, src)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("clang-19: %v: %s", err, b)
	}
	return out, nil
}

// directLoop runs the loop module's parse on wazero directly (no chiphost),
// with or without WithCloseOnContextDone, under a cancellable context.
type directLoop struct {
	rt    wazero.Runtime
	parse api.Function
	stack []uint64
	n     int
}

func newDirectLoop(ctx context.Context, bin, input []byte, closeOnDone bool) (*directLoop, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(closeOnDone))
	mod, err := rt.Instantiate(ctx, bin)
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	res, err := mod.ExportedFunction("cabi_realloc").Call(ctx, 0, 0, 1, uint64(len(input)))
	if err != nil {
		rt.Close(ctx)
		return nil, err
	}
	if !mod.Memory().Write(uint32(res[0]), input) {
		rt.Close(ctx)
		return nil, fmt.Errorf("write out of range")
	}
	return &directLoop{rt: rt, parse: mod.ExportedFunction(iface + "parse"), stack: []uint64{res[0], uint64(len(input)), 0, 0}, n: len(input)}, nil
}

func (d *directLoop) run(calls int) func(context.Context) (sample, error) {
	return func(ctx context.Context) (sample, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ptr := d.stack[0]
		return timed(func() (sample, error) {
			for i := 0; i < calls; i++ {
				d.stack[0], d.stack[1], d.stack[2], d.stack[3] = ptr, uint64(d.n), 0, 0
				if err := d.parse.CallWithStack(ctx, d.stack); err != nil {
					return sample{}, err
				}
			}
			return sample{bytes: uint64(calls * d.n * loopPasses), calls: uint64(calls)}, nil
		})
	}
}

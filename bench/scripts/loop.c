// A bare core-module parser for the benchmark suite (bench/loop.go): its
// parse runs a tight loop, FNV-1a over the input PASSES times (set with
// -DPASSES=n), unrolling disabled (one back edge, so one interrupt check,
// per byte: the worst case for the checks). It returns one item without a
// message that consumes everything. No libc, no imports.
#include <stdint.h>
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
  for (int pass = 0; pass < PASSES; pass++) {
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

// A misbehaving chipmunk:parser/parse@0.1.0 plugin for chiphost's failure-path tests.
// The behaviour is chosen at init with the dropdown config item `mode`.
#include "chipmunk_abi.h"

#define IFACE "chipmunk:parser/parser@0.1.0#"

enum {
  M_OK, M_LOOP, M_OOM, M_TRAP, M_BAD_POINTER, M_BAD_UTF8, M_BAD_DISCRIMINANT,
  M_ZERO_CONSUMED, M_EMPTY, M_POST_RETURN_IMPORT, M_INIT_LOOP, M_CONSUMED_OVERFLOW,
  M_CONSUMED_TOO_MUCH, M_COUNT
};
static const cm_str modes[M_COUNT] = {
  {"ok", 2}, {"loop", 4}, {"oom", 3}, {"trap", 4}, {"bad-pointer", 11}, {"bad-utf8", 8},
  {"bad-discriminant", 16}, {"zero-consumed", 13}, {"empty", 5}, {"post-return-import", 18},
  {"init-loop", 9}, {"consumed-overflow", 17}, {"consumed-too-much", 17},
};
static int mode = M_OK;

EXPORT(IFACE "get-version") uint8_t *get_version(void) { return cm_version(6, 6, 6); }

static _Alignas(4) uint8_t schema[SCHEMA_ITEM_SIZE];
EXPORT(IFACE "get-config-schemas") uint8_t *get_config_schemas(void) {
  put_schema(schema, "mode", "Mode", "How to misbehave", CV_DROPDOWN);
  AT(schema, 32, const cm_str *) = modes;
  AT(schema, 36, uint32_t) = M_COUNT;
  put_str(schema + 40, "ok");
  AT(cm_ret, 0, uint8_t *) = schema;
  AT(cm_ret, 4, uint32_t) = 1;
  return cm_ret;
}

EXPORT(IFACE "get-render-options") uint8_t *get_render_options(void) {
  cm_ret[0] = 0; // none
  return cm_ret;
}

static volatile int spin;

// Logged (info, unfiltered) right before an endless loop, so that tests know the guest is
// spinning without waiting for a while.
static void announce_loop(void) { cm_host_log(LVL_INFO, "looping", 7); }

EXPORT(IFACE "init") uint8_t *init(int32_t level, uint8_t *items, uint32_t n) {
  cm_level = level;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *it = items + i * CONFIG_ITEM_SIZE;
    if (!str_eq(AT(it, 0, cm_str), "mode") || it[8] != CV_DROPDOWN) continue;
    for (int m = 0; m < M_COUNT; m++)
      if (AT(it, 12, cm_str).len == modes[m].len && !memcmp(AT(it, 12, cm_str).ptr, modes[m].ptr, modes[m].len)) mode = m;
  }
  free_config_items(items, n);
  if (mode == M_INIT_LOOP) {
    announce_loop();
    for (;;) spin++;
  }
  cm_ret[0] = 0;
  return cm_ret;
}

static uint8_t *in_data;
static uint32_t in_len;
static _Alignas(8) uint8_t item[PARSE_RETURN_SIZE];
static void *volatile sink;

static _Alignas(8) uint8_t items[2][PARSE_RETURN_SIZE];

static uint8_t *one_item(uint8_t disc, const char *line, uint32_t line_len, uint64_t consumed) {
  put_line_item(item, disc, line, line_len, consumed);
  return cm_items(item, 1);
}

// two_items returns rows "first" and "second" that claim c0 and c1 bytes.
static uint8_t *two_items(uint64_t c0, uint64_t c1) {
  put_line_item(items[0], 0, "first", 5, c0);
  put_line_item(items[1], 0, "second", 6, c1);
  return cm_items(items[0], 2);
}

EXPORT(IFACE "parse") uint8_t *parse(uint8_t *data, uint32_t len, int32_t has_ts, int64_t ts) {
  (void)has_ts; (void)ts;
  in_data = data;
  in_len = len;
  switch (mode) {
  case M_LOOP: announce_loop(); for (;;) spin++;
  case M_OOM: for (;;) { sink = malloc(1 << 20); if (!sink) abort(); }
  case M_TRAP: __builtin_trap();
  case M_BAD_POINTER:
    cm_ret[0] = 0;
    AT(cm_ret, 4, uint32_t) = 0xfffffff0u;
    AT(cm_ret, 8, uint32_t) = 1;
    return cm_ret;
  case M_BAD_UTF8: return one_item(0, "bad \xff\xfe utf8", 11, len);
  case M_BAD_DISCRIMINANT: return one_item(7, "x", 1, len);
  case M_ZERO_CONSUMED: return one_item(0, "nothing consumed", 16, 0);
  case M_CONSUMED_OVERFLOW: return two_items(UINT64_MAX, 1); // sums to 0 in u64
  case M_CONSUMED_TOO_MUCH: return two_items(1, len);         // one byte more than given
  case M_EMPTY:
    cm_ret[0] = 0;
    AT(cm_ret, 4, uint8_t *) = item;
    AT(cm_ret, 8, uint32_t) = 0;
    return cm_ret;
  }
  // ok / post-return-import: one line per call, the line is a view into the input.
  const uint8_t *nl = memchr(data, '\n', len);
  if (!nl) return cm_incomplete();
  return one_item(0, (const char *)data, (uint32_t)(nl - data), (uint64_t)(nl - data) + 1);
}

EXPORT("cabi_post_" IFACE "parse") void post_parse(uint8_t *r) {
  (void)r;
  if (mode == M_POST_RETURN_IMPORT) cm_host_log(LVL_ERROR, "log from post-return", 20);
  cm_free(in_data, in_len);
  in_data = NULL;
}

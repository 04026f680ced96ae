// A chipmunk:parser/parse@0.1.0 parser that sleeps (WASI poll_oneoff with a clock subscription,
// through wasi-libc's nanosleep) for chiphost's tests of blocking host calls. Built as a bare
// core module. Config: `init-seconds` (sleep in init, default 0) and `parse-seconds` (sleep in
// every parse, default 600), printing `sleeping N s in init|parse` first; after sleeping, parse
// returns one line consuming the whole input.
#include "chipmunk_abi.h"
#include <time.h>

#define IFACE "chipmunk:parser/parser@0.1.0#"

EXPORT(IFACE "get-version") uint8_t *get_version(void) { return cm_version(0, 1, 0); }

static _Alignas(4) uint8_t schemas[2 * SCHEMA_ITEM_SIZE];
EXPORT(IFACE "get-config-schemas") uint8_t *get_config_schemas(void) {
  put_schema(schemas, "init-seconds", "Init sleep", "Seconds init sleeps", CV_INTEGER);
  AT(schemas, 32, int32_t) = 0;
  put_schema(schemas + SCHEMA_ITEM_SIZE, "parse-seconds", "Parse sleep", "Seconds each parse sleeps", CV_INTEGER);
  AT(schemas, SCHEMA_ITEM_SIZE + 32, int32_t) = 600;
  AT(cm_ret, 0, uint8_t *) = schemas;
  AT(cm_ret, 4, uint32_t) = 2;
  return cm_ret;
}

EXPORT(IFACE "get-render-options") uint8_t *get_render_options(void) {
  cm_ret[0] = 0; // none
  return cm_ret;
}

// Prints "sleeping N s in WHERE" to stdout (a line the host forwards as a log record, so tests
// know the call is running), then sleeps.
static void sleep_seconds(int32_t s, const char *where) {
  struct timespec ts = {.tv_sec = s, .tv_nsec = 0};
  if (s <= 0) return;
  printf("sleeping %d s in %s\n", (int)s, where);
  fflush(stdout);
  nanosleep(&ts, NULL);
}

static int32_t parse_seconds = 600;

EXPORT(IFACE "init") uint8_t *init(int32_t level, uint8_t *items, uint32_t n) {
  cm_level = level;
  int32_t init_seconds = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *it = items + i * CONFIG_ITEM_SIZE;
    if (it[8] != CV_INTEGER) continue;
    if (str_eq(AT(it, 0, cm_str), "init-seconds")) init_seconds = AT(it, 12, int32_t);
    if (str_eq(AT(it, 0, cm_str), "parse-seconds")) parse_seconds = AT(it, 12, int32_t);
  }
  free_config_items(items, n);
  sleep_seconds(init_seconds, "init");
  cm_ret[0] = 0;
  return cm_ret;
}

static uint8_t *in_data;
static uint32_t in_len;
static _Alignas(8) uint8_t item[PARSE_RETURN_SIZE];

EXPORT(IFACE "parse") uint8_t *parse(uint8_t *data, uint32_t len, int32_t has_ts, int64_t ts) {
  (void)has_ts; (void)ts;
  in_data = data;
  in_len = len;
  sleep_seconds(parse_seconds, "parse");
  put_line_item(item, 0, "woke up", 7, len);
  return cm_items(item, 1);
}

EXPORT("cabi_post_" IFACE "parse") void post_parse(uint8_t *r) {
  (void)r;
  cm_free(in_data, in_len);
  in_data = NULL;
}

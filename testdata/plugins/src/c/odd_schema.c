// A chipmunk:parser/parse@0.1.0 plugin whose config schemas declare defaults a host cannot use
// as they are: float defaults NaN and +inf (not representable in JSON), and a dropdown default
// that is not one of its options. `init` logs every config item it receives (info, unfiltered:
// "ratio = Float(2.5)"), so tests see what the host passed; `parse` returns one line per call.
#include "chipmunk_abi.h"

#define IFACE "chipmunk:parser/parser@0.1.0#"

EXPORT(IFACE "get-version") uint8_t *get_version(void) { return cm_version(0, 1, 0); }

static const cm_str levels[2] = {{"low", 3}, {"high", 4}};
static _Alignas(4) uint8_t schemas[4 * SCHEMA_ITEM_SIZE];

EXPORT(IFACE "get-config-schemas") uint8_t *get_config_schemas(void) {
  uint8_t *s = schemas;
  put_schema(s, "ratio", "Ratio", "A float whose default is NaN", CV_FLOAT);
  AT(s, 32, float) = __builtin_nanf("");
  s += SCHEMA_ITEM_SIZE;
  put_schema(s, "scale", "Scale", "A float whose default is +inf", CV_FLOAT);
  AT(s, 32, float) = __builtin_inff();
  s += SCHEMA_ITEM_SIZE;
  put_schema(s, "level", "Level", "A dropdown whose default is not an option", CV_DROPDOWN);
  AT(s, 32, const cm_str *) = levels;
  AT(s, 36, uint32_t) = 2;
  put_str(s + 40, "medium");
  s += SCHEMA_ITEM_SIZE;
  put_schema(s, "name", "Name", NULL, CV_TEXT);
  put_str(s + 32, "odd");
  AT(cm_ret, 0, uint8_t *) = schemas;
  AT(cm_ret, 4, uint32_t) = 4;
  return cm_ret;
}

EXPORT(IFACE "get-render-options") uint8_t *get_render_options(void) {
  cm_ret[0] = 0; // none
  return cm_ret;
}

EXPORT(IFACE "init") uint8_t *init(int32_t level, uint8_t *items, uint32_t n) {
  cm_level = level;
  cm_buf b = {0};
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *it = items + i * CONFIG_ITEM_SIZE;
    b.n = 0;
    buf_put(&b, AT(it, 0, cm_str).ptr, AT(it, 0, cm_str).len);
    buf_puts(&b, " = ");
    buf_debug_value(&b, it + 8);
    cm_host_log(LVL_INFO, b.p, b.n);
  }
  free(b.p);
  free_config_items(items, n);
  cm_ret[0] = 0;
  return cm_ret;
}

static uint8_t *in_data;
static uint32_t in_len;
static _Alignas(8) uint8_t item[PARSE_RETURN_SIZE];

// parse: one line per call (a view into the input), err(incomplete) without a newline.
EXPORT(IFACE "parse") uint8_t *parse(uint8_t *data, uint32_t len, int32_t has_ts, int64_t ts) {
  (void)has_ts; (void)ts;
  in_data = data;
  in_len = len;
  const uint8_t *nl = memchr(data, '\n', len);
  if (!nl) return cm_incomplete();
  put_line_item(item, 0, (const char *)data, (uint32_t)(nl - data), (uint64_t)(nl - data) + 1);
  return cm_items(item, 1);
}

EXPORT("cabi_post_" IFACE "parse") void post_parse(uint8_t *r) {
  (void)r;
  cm_free(in_data, in_len);
  in_data = NULL;
}

// chipmunk:parser/parse@0.1.0 in C: Chipmunk's Rust example `plugins/examples/rust/string_parser`
// (see design/chipmunk-plugins.md §6.1), with the canonical ABI written by hand in the shape
// wit-bindgen C produces.
//
// Two builds (testdata/plugins/build.sh):
// - string_parser (the default): its rows do not depend on where the host cuts the input. A line
//   without its '\n' is err(incomplete), unless the host hands over exactly the bytes it just
//   answered incomplete for once more (chiphost's "repeat call": no more input will come); then
//   the whole unterminated tail is a line.
// - string_parser_chipmunk (-DCHIPMUNK_FAITHFUL): Chipmunk's behaviour, a compatibility fixture. A
//   line without its '\n' is emitted at once without its last byte, so a line is split wherever the
//   host cuts the input.
//
// Fast path: for valid UTF-8 without a prefix, the line column points into the input list, which
// this plugin owns (the canonical ABI hands it over) and keeps alive until post-return.
// Speed (built with -msimd128): one SIMD pass collects the '\n' offsets, one SIMD UTF-8 validation
// pass covers the whole input (a '\n' ends every sequence, so a line inside a valid prefix is valid),
// and only lines at or after a flagged spot go through the byte-wise check that defines the results.
#include "chipmunk_abi.h"

#define IFACE "chipmunk:parser/parser@0.1.0#"

static int initialized;
static int lossy;
static char *prefix; // NULL: no prefix
static size_t prefix_len;

// ---- get-version / get-config-schemas / get-render-options -----------------

EXPORT(IFACE "get-version") uint8_t *get_version(void) {
  AT(cm_ret, 0, uint16_t) = 0;
  AT(cm_ret, 2, uint16_t) = 1;
  AT(cm_ret, 4, uint16_t) = 0;
  return cm_ret;
}

static const cm_str files_exts[] = {{"log", 3}, {"txt", 3}};
static const cm_str dropdown_opts[] = {{"Option 1", 8}, {"Option 2", 8}, {"Option 3", 8}, {"Option 4", 8}};
static _Alignas(4) uint8_t schemas[7 * SCHEMA_ITEM_SIZE];

EXPORT(IFACE "get-config-schemas") uint8_t *get_config_schemas(void) {
  uint8_t *s = schemas;
  put_schema(s, "lossy", "Parse Lossy", "Parse UTF-8 including invalid characters", CV_BOOLEAN);
  s[32] = 1;
  s += SCHEMA_ITEM_SIZE;
  put_schema(s, "prefix", "Custom Prefix", "Specify custom prefix for each line", CV_TEXT);
  put_str(s + 32, "");
  s += SCHEMA_ITEM_SIZE;
  put_schema(s, "integer_idx", "Example Number", "Configuration item with integer", CV_INTEGER);
  AT(s, 32, int32_t) = 32;
  s += SCHEMA_ITEM_SIZE;
  put_schema(s, "float_idx", "Example Float", "Configuration item with floating number", CV_FLOAT);
  AT(s, 32, float) = 1.55f;
  s += SCHEMA_ITEM_SIZE;
  put_schema(s, "files_idx", "Example File", "Configuration item with files", CV_FILES);
  AT(s, 32, const cm_str *) = files_exts;
  AT(s, 36, uint32_t) = 2;
  s += SCHEMA_ITEM_SIZE;
  put_schema(s, "dirs_idx", "Example Directories", "Configuration item with directories", CV_DIRECTORIES);
  s += SCHEMA_ITEM_SIZE;
  put_schema(s, "dropdown_idx", "Example Drop-Down", "Configuration item with drop-down", CV_DROPDOWN);
  AT(s, 32, const cm_str *) = dropdown_opts;
  AT(s, 36, uint32_t) = 4;
  put_str(s + 40, "Option 1");
  AT(cm_ret, 0, uint8_t *) = schemas;
  AT(cm_ret, 4, uint32_t) = 7;
  return cm_ret;
}

static _Alignas(4) uint8_t columns[2 * COLUMN_INFO_SIZE];

EXPORT(IFACE "get-render-options") uint8_t *get_render_options(void) {
  put_str(columns, "Length");
  put_str(columns + 8, "The length of the log message");
  AT(columns, 16, int16_t) = 30;
  put_str(columns + 20, "Message");
  put_str(columns + 28, "The log message");
  AT(columns, 36, int16_t) = -1;
  cm_ret[0] = 1; // some(columns-render-options)
  AT(cm_ret, 4, uint8_t *) = columns;
  AT(cm_ret, 8, uint32_t) = 2;
  AT(cm_ret, 12, uint16_t) = 30;
  AT(cm_ret, 14, uint16_t) = 600;
  return cm_ret;
}

// ---- init -------------------------------------------------------------------

static const char *const known_ids[] = {"lossy", "prefix", "integer_idx", "float_idx", "files_idx", "dirs_idx", "dropdown_idx"};

static uint8_t *find_item(uint8_t *items, uint32_t n, const char *id) {
  for (uint32_t i = 0; i < n; i++)
    if (str_eq(AT(items + i * CONFIG_ITEM_SIZE, 0, cm_str), id)) return items + i * CONFIG_ITEM_SIZE;
  return NULL;
}

static void debug_items(cm_buf *b, uint8_t *items, uint32_t n) {
  buf_puts(b, "[");
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *it = items + i * CONFIG_ITEM_SIZE;
    if (i) buf_puts(b, ", ");
    buf_puts(b, "ConfigItem { id: ");
    buf_debug_str(b, AT(it, 0, cm_str).ptr, AT(it, 0, cm_str).len);
    buf_puts(b, ", value: ");
    buf_debug_value(b, it + 8);
    buf_puts(b, " }");
  }
  buf_puts(b, "]");
}

static uint8_t *do_init(int32_t level, uint8_t *items, uint32_t n) {
  cm_buf b = {0};
  cm_level = level;
  buf_printf(&b, "Plugin initialize called with the general settings: ParserConfig { log_level: %s }", level_names[level]);
  cm_log(LVL_DEBUG, b.p, b.n);
  b.n = 0;
  buf_puts(&b, "Plugin initialize called with the custom configs: ");
  debug_items(&b, items, n);
  cm_log(LVL_DEBUG, b.p, b.n);
  free(b.p);

  printf("From Plugin to Stdout: Initialize called with the %u custom configs.\n", n);
  fflush(stdout);
  fprintf(stderr, "From Plugin to Stderr: Log level is %s\n", level_names[level]);

  cm_buf msg = {0};
  _Alignas(4) uint8_t tr[12];
  cm_host_temp_dir(tr);
  cm_str path = AT(tr, 4, cm_str);
  if (tr[0]) {
    buf_puts(&msg, "Getting temp directory failed. ");
    buf_put(&msg, path.ptr, path.len);
    cm_free(path.ptr, path.len);
    return ret_err_string(IE_IO, &msg);
  }
  buf_puts(&msg, "Temp directory path: ");
  buf_put(&msg, path.ptr, path.len);
  cm_log(LVL_INFO, msg.p, msg.n);
  cm_free(path.ptr, path.len);
  msg.n = 0;

  uint8_t *it = find_item(items, n, "lossy");
  if (!it) {
    buf_puts(&msg, "No configuration value for id 'lossy' is provided");
    return ret_err_string(IE_CONFIG, &msg);
  }
  if (it[8] != CV_BOOLEAN) {
    buf_puts(&msg, "Invalid config value for 'lossy' is provided. Value: ");
    buf_debug_value(&msg, it + 8);
    return ret_err_string(IE_CONFIG, &msg);
  }
  int new_lossy = it[12] != 0;
  it = find_item(items, n, "prefix");
  if (!it) {
    buf_puts(&msg, "No configuration value for id 'prefix' is provided");
    return ret_err_string(IE_CONFIG, &msg);
  }
  if (it[8] != CV_TEXT) {
    buf_puts(&msg, "Invalid config value for 'prefix' is provided. Value: ");
    buf_debug_value(&msg, it + 8);
    return ret_err_string(IE_CONFIG, &msg);
  }
  cm_str p = AT(it, 12, cm_str);

  for (uint32_t i = 0; i < n; i++) {
    uint8_t *item = items + i * CONFIG_ITEM_SIZE;
    cm_str id = AT(item, 0, cm_str);
    int known = 0;
    for (size_t k = 0; k < sizeof known_ids / sizeof *known_ids; k++) known |= str_eq(id, known_ids[k]);
    msg.n = 0;
    if (!known) {
      buf_puts(&msg, "Unknown configuration ID: ");
      buf_put(&msg, id.ptr, id.len);
      return ret_err_string(IE_CONFIG, &msg);
    }
    buf_puts(&msg, "Config item: ID: ");
    buf_put(&msg, id.ptr, id.len);
    buf_puts(&msg, ", Value: ");
    buf_debug_value(&msg, item + 8);
    printf("%s\n", msg.p);
  }
  fflush(stdout);
  free(msg.p);

  lossy = new_lossy;
  free(prefix);
  prefix = NULL;
  prefix_len = p.len;
  if (p.len) {
    prefix = malloc(p.len);
    memcpy(prefix, p.ptr, p.len);
  }
  initialized = 1;
  cm_ret[0] = 0;
  return cm_ret;
}

EXPORT(IFACE "init") uint8_t *init(int32_t level, uint8_t *items, uint32_t n) {
  // The Rust API installs its logger here; a second init panics (traps) in Chipmunk's plugin.
  static int called;
  if (called++) __builtin_trap();
  uint8_t *r = do_init(level, items, n);
  free_config_items(items, n);
  return r;
}

EXPORT("cabi_post_" IFACE "init") void post_init(uint8_t *r) {
  if (r[0]) free(AT(r, 8, void *));
}

// ---- UTF-8, with Rust's core::str validation rules --------------------------
// Returns 1 if p[0..n) is valid. Otherwise sets *valid_up_to and *err_len (0 = incomplete
// sequence at the end, else the length of the maximal invalid subpart, as Utf8Error::error_len).
static int utf8_check(const uint8_t *p, size_t n, size_t *valid_up_to, size_t *err_len) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c < 0x80) { i++; continue; }
    size_t need;
    uint8_t lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) { need = 2; if (c == 0xe0) lo = 0xa0; if (c == 0xed) hi = 0x9f; }
    else if (c >= 0xf0 && c <= 0xf4) { need = 3; if (c == 0xf0) lo = 0x90; if (c == 0xf4) hi = 0x8f; }
    else { *valid_up_to = i; *err_len = 1; return 0; }
    for (size_t k = 1; k <= need; k++) {
      if (i + k >= n) { *valid_up_to = i; *err_len = 0; return 0; }
      uint8_t d = p[i + k];
      if (k == 1 ? (d < lo || d > hi) : (d < 0x80 || d > 0xbf)) { *valid_up_to = i; *err_len = k; return 0; }
    }
    i += need + 1;
  }
  return 1;
}

// String::from_utf8_lossy: every maximal invalid subpart becomes U+FFFD.
static void utf8_lossy(cm_buf *b, const uint8_t *p, size_t n) {
  while (n) {
    size_t ok, bad;
    if (utf8_check(p, n, &ok, &bad)) { buf_put(b, (const char *)p, n); return; }
    buf_put(b, (const char *)p, ok);
    buf_put(b, "\xEF\xBF\xBD", 3);
    if (bad == 0) return; // incomplete sequence runs to the end
    p += ok + bad;
    n -= ok + bad;
  }
}

// ---- fast scanning (wasm SIMD128) ------------------------------------------
// The results are defined by utf8_check above, per line; these only find where it need not run.
#include <wasm_simd128.h>

static uint32_t *nls;   // offsets of the '\n' bytes of the current input (kept between calls)
static size_t nls_cap;

// Collects the offsets of every '\n' in p[0..n) into nls; returns how many.
static size_t find_newlines(const uint8_t *p, size_t n) {
  if (!nls) {
    nls_cap = 1024;
    nls = realloc(nls, nls_cap * sizeof *nls);
    if (!nls) abort();
  }
  size_t k = 0, i = 0;
  const v128_t nl = wasm_i8x16_splat('\n');
  for (; i + 16 <= n; i += 16) {
    uint32_t m = wasm_i8x16_bitmask(wasm_i8x16_eq(wasm_v128_load(p + i), nl));
    if (!m) continue;
    if (k + 16 > nls_cap) {
      nls_cap *= 2;
      nls = realloc(nls, nls_cap * sizeof *nls);
      if (!nls) abort();
    }
    do {
      nls[k++] = (uint32_t)(i + __builtin_ctz(m));
      m &= m - 1;
    } while (m);
  }
  for (; i < n; i++) {
    if (p[i] != '\n') continue;
    if (k + 1 > nls_cap) {
      nls_cap *= 2;
      nls = realloc(nls, nls_cap * sizeof *nls);
      if (!nls) abort();
    }
    nls[k++] = (uint32_t)i;
  }
  return k;
}

// UTF-8 validation after Keiser & Lemire, "Validating UTF-8 in less than one instruction per
// byte" (simdjson's lookup algorithm). Returns v <= n such that no invalid (or incomplete)
// sequence of p[0..n) starts before v; n if p[0..n) is valid UTF-8. An error is flagged at most 3
// bytes after the start of its sequence, so v = (first flagged block) - 3.
#define TOO_SHORT (1 << 0)
#define TOO_LONG (1 << 1)
#define OVERLONG_3 (1 << 2)
#define TOO_LARGE (1 << 3)
#define SURROGATE (1 << 4)
#define OVERLONG_2 (1 << 5)
#define TOO_LARGE_1000 (1 << 6)
#define OVERLONG_4 (1 << 6)
#define TWO_CONTS (1 << 7)
#define CARRY (TOO_SHORT | TOO_LONG | TWO_CONTS)

static size_t utf8_valid_prefix(const uint8_t *p, size_t n) {
  const v128_t t1 = wasm_u8x16_make(
      TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
      TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
      TOO_SHORT | OVERLONG_2, TOO_SHORT, TOO_SHORT | OVERLONG_3 | SURROGATE,
      TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4);
  const v128_t t2 = wasm_u8x16_make(
      CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
      CARRY | TOO_LARGE, CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
      CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
      CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
      CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
      CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE, CARRY | TOO_LARGE | TOO_LARGE_1000,
      CARRY | TOO_LARGE | TOO_LARGE_1000);
  const v128_t t3 = wasm_u8x16_make(
      TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
      TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
      TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
      TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
      TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
      TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT);
  // Bytes that, in the last 3 positions of a block, start a sequence the block does not finish.
  const v128_t maxv = wasm_u8x16_make(255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
                                      255, 0xf0 - 1, 0xe0 - 1, 0xc0 - 1);
  const v128_t nib = wasm_i8x16_splat(0x0f);
  v128_t prev = wasm_i8x16_splat(0), prev_incomplete = wasm_i8x16_splat(0);
  _Alignas(16) uint8_t last[16];
  for (size_t i = 0;; i += 16) {
    v128_t in;
    if (i + 16 <= n) {
      in = wasm_v128_load(p + i);
    } else { // the final partial block, zero padded (one all-zero block if n % 16 == 0)
      memset(last, 0, sizeof last);
      memcpy(last, p + i, n - i);
      in = wasm_v128_load(last);
    }
    v128_t err;
    if (!wasm_i8x16_bitmask(in)) {
      err = prev_incomplete;
    } else {
      v128_t prev1 = wasm_i8x16_shuffle(prev, in, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
      v128_t prev2 = wasm_i8x16_shuffle(prev, in, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
      v128_t prev3 = wasm_i8x16_shuffle(prev, in, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28);
      v128_t b1h = wasm_i8x16_swizzle(t1, wasm_u8x16_shr(prev1, 4));
      v128_t b1l = wasm_i8x16_swizzle(t2, wasm_v128_and(prev1, nib));
      v128_t b2h = wasm_i8x16_swizzle(t3, wasm_u8x16_shr(in, 4));
      v128_t special = wasm_v128_and(wasm_v128_and(b1h, b1l), b2h);
      v128_t third = wasm_u8x16_sub_sat(prev2, wasm_u8x16_splat(0xe0 - 0x80));
      v128_t fourth = wasm_u8x16_sub_sat(prev3, wasm_u8x16_splat(0xf0 - 0x80));
      v128_t must23 = wasm_v128_and(wasm_v128_or(third, fourth), wasm_u8x16_splat(0x80));
      err = wasm_v128_xor(must23, special);
      prev_incomplete = wasm_u8x16_sub_sat(in, maxv);
    }
    if (wasm_v128_any_true(err)) return i >= 3 ? i - 3 : 0;
    if (i + 16 > n) return n;
    prev = in;
  }
}

static inline size_t utoa(uint32_t v, char *out) {
  size_t n = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 100000 ? 5 : v < 1000000 ? 6
           : v < 10000000 ? 7 : v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
  char *q = out + n;
  do { *--q = (char)('0' + v % 10); v /= 10; } while (v);
  return n;
}

// ---- parse ------------------------------------------------------------------
// One allocation per call: the parse-return array, followed by one `aux` per item.
typedef struct {
  cm_str cols[2]; // list<string> of the columns message
  char num[12];   // decimal length
} aux_t;

static uint8_t *in_data;     // the input list, owned until post-return
static size_t in_len;
static uint8_t *block;       // parse-return[] + aux_t[]
static size_t owned;         // items whose line string is a separate allocation

#ifndef CHIPMUNK_FAITHFUL
// The last input answered err(incomplete): its length and hash. The same input again is the
// host's repeat call; any other answer forgets it.
static int tail_pending;
static uint32_t tail_len;
static uint64_t tail_hash;

static uint64_t input_hash(const uint8_t *p, size_t n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    memcpy(&w, p + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

// Returns 1 when an input without a '\n' is the repeat call (emit its tail), else remembers it
// and returns 0 (answer incomplete).
static int is_repeat(const uint8_t *p, uint32_t n) {
  uint64_t h = input_hash(p, n);
  if (tail_pending && tail_len == n && tail_hash == h) {
    tail_pending = 0;
    return 1;
  }
  tail_pending = 1;
  tail_len = n;
  tail_hash = h;
  return 0;
}
#endif

EXPORT(IFACE "parse") uint8_t *parse(uint8_t *data, uint32_t len, int32_t has_ts, int64_t ts) {
  (void)has_ts; (void)ts;
  if (!initialized) __builtin_trap(); // Rust: parse before init panics
  in_data = data;
  in_len = len;
  owned = 0;
  size_t nnl = find_newlines(data, len);
#ifndef CHIPMUNK_FAITHFUL
  int last_tail = 0; // the repeat call: the unterminated tail is a line
  if (nnl == 0 && len > 0) {
    if (!is_repeat(data, len)) return cm_incomplete();
    last_tail = 1;
  }
  tail_pending = 0;
#endif
  size_t max = nnl + 1;
  block = malloc(max * (PARSE_RETURN_SIZE + sizeof(aux_t)));
  if (!block) abort();
  aux_t *aux = (aux_t *)(block + max * PARSE_RETURN_SIZE);

  // Lines that end (at their '\n') by vend are valid UTF-8: vend comes from utf8_valid_prefix run
  // from a line start, and '\n' bytes are character boundaries of a valid prefix. Past vend, the
  // line holding vend gets utf8_check, and the next line that starts after it re-runs the SIMD
  // check. An unterminated tail that becomes a line always gets utf8_check.
  size_t vend = utf8_valid_prefix(data, len);
  size_t pos = 0, count = 0;
  while (pos < len) {
    const uint8_t *s = data + pos;
    size_t rest = len - pos;
    int has_nl = count < nnl;
#ifdef CHIPMUNK_FAITHFUL
    size_t line_len = has_nl ? nls[count] - pos : rest - 1; // Chipmunk drops the tail's last byte
#else
    if (!has_nl && !last_tail) break; // the tail waits for its '\n' (or the repeat call)
    size_t line_len = has_nl ? nls[count] - pos : rest;
#endif
    size_t consumed = has_nl ? line_len + 1 : rest;

    const char *text = (const char *)s;
    size_t text_len = line_len;
    size_t ok, bad;
    int valid;
    if (has_nl && pos > vend) vend = pos + utf8_valid_prefix(s, rest);
    if (has_nl && pos + line_len <= vend) valid = 1;
    else valid = utf8_check(s, line_len, &ok, &bad);
    if (__builtin_expect(!valid || prefix != NULL, 0)) {
      cm_buf own = {0};
      if (!valid && !lossy) {
        if (count) break; // a later failure ends the iteration, items so far are returned
        cm_buf msg = {0};
        if (bad) buf_printf(&msg, "Converting to UTF-8 failed. Error invalid utf-8 sequence of %zu bytes from index %zu", bad, ok);
        else buf_printf(&msg, "Converting to UTF-8 failed. Error incomplete utf-8 byte sequence from index %zu", ok);
        free(block);
        block = NULL;
        return ret_err_string(PE_PARSE, &msg);
      }
      if (prefix) {
        buf_put(&own, prefix, prefix_len);
        buf_put(&own, " ", 1);
      }
      if (!valid) utf8_lossy(&own, s, line_len);
      else if (prefix) buf_put(&own, (const char *)s, line_len);
      if (own.p) { text = own.p; text_len = own.n; owned++; }
    }

    uint8_t *r = block + count * PARSE_RETURN_SIZE;
    aux_t *a = &aux[count];
    size_t nn = utoa((uint32_t)text_len, a->num);
    a->cols[0] = (cm_str){a->num, (uint32_t)nn};
    a->cols[1] = (cm_str){text, (uint32_t)text_len};
    r[0] = 1;  // some
    r[8] = 0;  // parse-yield.message
    r[16] = 1; // parsed-message.columns
    AT(r, 20, aux_t *) = a;
    AT(r, 24, uint32_t) = 2;
    AT(r, 88, uint64_t) = consumed;
    count++;
    pos += consumed;
  }
  cm_ret[0] = 0;
  AT(cm_ret, 4, uint8_t *) = block;
  AT(cm_ret, 8, uint32_t) = (uint32_t)count;
  return cm_ret;
}

EXPORT("cabi_post_" IFACE "parse") void post_parse(uint8_t *r) {
#ifdef CHIPMUNK_FAITHFUL
  if (r[0]) {
#else
  if (r[0] && r[4] == PE_INCOMPLETE) {
    // no payload, no block
  } else if (r[0]) {
#endif
    free(AT(r, 8, void *));
  } else {
    uint8_t *items = AT(r, 4, uint8_t *);
    uint32_t n = owned ? AT(r, 8, uint32_t) : 0;
    for (uint32_t i = 0; i < n; i++) {
      cm_str *cols = AT(items + i * PARSE_RETURN_SIZE, 20, cm_str *);
      const uint8_t *t = (const uint8_t *)cols[1].ptr;
      if (t < in_data || t > in_data + in_len) free((void *)t); // not a view into the input
    }
  }
  free(block);
  block = NULL;
  cm_free(in_data, (uint32_t)in_len);
  in_data = NULL;
}

// Hand-written canonical-ABI helpers for the chipmunk:*@0.1.0 worlds (wasm32, utf8 strings).
// Shared by the C fixtures in this directory. Layout offsets follow the canonical ABI; see
// design/component-model.md §3.2 for the table these constants come from.
#ifndef CHIPMUNK_ABI_H
#define CHIPMUNK_ABI_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>

#define EXPORT(n) __attribute__((export_name(n)))
#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))

// ---- memory access ---------------------------------------------------------
#define AT(base, off, T) (*(T *)((uint8_t *)(base) + (off)))

typedef struct { const char *ptr; uint32_t len; } cm_str; // string / list<T> header (8 bytes)

// ---- enums and discriminants -----------------------------------------------
enum { LVL_ERROR, LVL_WARN, LVL_INFO, LVL_DEBUG, LVL_TRACE };
enum { CV_BOOLEAN, CV_INTEGER, CV_FLOAT, CV_TEXT, CV_DIRECTORIES, CV_FILES, CV_DROPDOWN };
enum { IE_CONFIG, IE_IO, IE_UNSUPPORTED, IE_OTHER };
enum { PE_UNRECOVERABLE, PE_PARSE, PE_INCOMPLETE, PE_EOF };
enum { SE_IO, SE_UNSUPPORTED, SE_OTHER };

// Sizes (bytes) of the records we build or read.
#define CONFIG_ITEM_SIZE 20
#define SCHEMA_ITEM_SIZE 48
#define COLUMN_INFO_SIZE 20
#define PARSE_RETURN_SIZE 96

// ---- imports ---------------------------------------------------------------
IMPORT("chipmunk:shared/logging@0.1.0", "log") void cm_host_log(int32_t level, const char *p, size_t n);
IMPORT("chipmunk:shared/sandbox@0.1.0", "temp-directory") void cm_host_temp_dir(void *ret);

// ---- allocator -------------------------------------------------------------
// A plugin defining CM_REALLOC_HOOK provides cm_realloc_hook, called at the start of every
// cabi_realloc (the wasip2 probe calls imports from it, which the host must refuse).
#ifdef CM_REALLOC_HOOK
static void cm_realloc_hook(void);
#endif
EXPORT("cabi_realloc") void *cabi_realloc(void *old, size_t old_size, size_t align, size_t new_size) {
  (void)old_size;
#ifdef CM_REALLOC_HOOK
  cm_realloc_hook();
#endif
  if (new_size == 0) return (void *)align;
  void *p = realloc(old, new_size);
  if (!p) abort();
  return p;
}

static _Alignas(8) uint8_t cm_ret[16]; // return area of the exports

// ---- return values shared by the test parsers --------------------------------
// get-version: major.minor.patch.
static __attribute__((unused)) uint8_t *cm_version(uint16_t major, uint16_t minor, uint16_t patch) {
  AT(cm_ret, 0, uint16_t) = major;
  AT(cm_ret, 2, uint16_t) = minor;
  AT(cm_ret, 4, uint16_t) = patch;
  return cm_ret;
}

// parse: err(incomplete).
static __attribute__((unused)) uint8_t *cm_incomplete(void) {
  cm_ret[0] = 1;
  cm_ret[4] = PE_INCOMPLETE;
  return cm_ret;
}

// put_line_item fills the parse-return at `it`: some(parse-yield case `disc`), whose message (for
// case 0) is a line, consuming `consumed` bytes.
static __attribute__((unused)) void put_line_item(uint8_t *it, uint8_t disc, const char *line, uint32_t len, uint64_t consumed) {
  memset(it, 0, PARSE_RETURN_SIZE);
  it[0] = 1;     // some
  it[8] = disc;  // parse-yield case
  it[16] = 0;    // parsed-message.line
  AT(it, 20, const char *) = line;
  AT(it, 24, uint32_t) = len;
  AT(it, 88, uint64_t) = consumed;
}

// parse: ok(list) of the n parse-returns at `items`.
static __attribute__((unused)) uint8_t *cm_items(uint8_t *items, uint32_t n) {
  cm_ret[0] = 0;
  AT(cm_ret, 4, uint8_t *) = items;
  AT(cm_ret, 8, uint32_t) = n;
  return cm_ret;
}

// Frees a string/list buffer received from the host. Empty ones may carry a dummy pointer
// (cabi_realloc returns `align` for size 0, and hosts need not allocate at all).
static __attribute__((unused)) void cm_free(const void *p, uint32_t len) {
  if (len) free((void *)p);
}

// ---- growable byte buffer used to format messages --------------------------
typedef struct { char *p; size_t n, cap; } cm_buf;

static __attribute__((unused)) void buf_put(cm_buf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t c = b->cap ? b->cap : 64;
    while (c < b->n + n + 1) c *= 2;
    b->p = realloc(b->p, c);
    if (!b->p) abort();
    b->cap = c;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}
static __attribute__((unused)) void buf_puts(cm_buf *b, const char *s) { buf_put(b, s, strlen(s)); }
static __attribute__((unused)) void buf_printf(cm_buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n >= (int)sizeof tmp) n = sizeof tmp - 1;
  buf_put(b, tmp, (size_t)n);
}

// Rust `{:?}` of a str: quotes plus the escapes of char::escape_debug.
static __attribute__((unused)) void buf_debug_str(cm_buf *b, const char *s, size_t n) {
  buf_puts(b, "\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '"': buf_puts(b, "\\\""); break;
    case '\\': buf_puts(b, "\\\\"); break;
    case '\n': buf_puts(b, "\\n"); break;
    case '\r': buf_puts(b, "\\r"); break;
    case '\t': buf_puts(b, "\\t"); break;
    case 0: buf_puts(b, "\\0"); break;
    default:
      if (c < 0x20 || c == 0x7f) buf_printf(b, "\\u{%x}", c);
      else buf_put(b, (const char *)&c, 1);
    }
  }
  buf_puts(b, "\"");
}

// Rust `{:?}` of Vec<String>: ["a", "b"].
static __attribute__((unused)) void buf_debug_strlist(cm_buf *b, const cm_str *l, uint32_t n) {
  buf_puts(b, "[");
  for (uint32_t i = 0; i < n; i++) {
    if (i) buf_puts(b, ", ");
    buf_debug_str(b, l[i].ptr, l[i].len);
  }
  buf_puts(b, "]");
}

// Rust `{:?}` of f32: shortest round-trip digits, ".0" for integral values.
static void buf_debug_f32(cm_buf *b, float f) {
  char tmp[64];
  if (f != f) { buf_puts(b, "NaN"); return; }
  if (f == __builtin_inff()) { buf_puts(b, "inf"); return; }
  if (f == -__builtin_inff()) { buf_puts(b, "-inf"); return; }
  for (int prec = 1; prec <= 9; prec++) {
    snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
    if (strtof(tmp, NULL) == f) break;
  }
  if (strchr(tmp, 'e')) { // Rust Debug switches to exponent form only far out; keep it simple
    buf_puts(b, tmp);
    return;
  }
  buf_puts(b, tmp);
  if (!strchr(tmp, '.')) buf_puts(b, ".0");
}

// Rust `{:?}` of a config-value (ConfigValue enum) located at `v` (the 12-byte variant).
static __attribute__((unused)) void buf_debug_value(cm_buf *b, const uint8_t *v) {
  const cm_str *s = (const cm_str *)(v + 4);
  switch (v[0]) {
  case CV_BOOLEAN: buf_puts(b, v[4] ? "Boolean(true)" : "Boolean(false)"); break;
  case CV_INTEGER: buf_printf(b, "Integer(%d)", AT(v, 4, int32_t)); break;
  case CV_FLOAT: buf_puts(b, "Float("); buf_debug_f32(b, AT(v, 4, float)); buf_puts(b, ")"); break;
  case CV_TEXT: buf_puts(b, "Text("); buf_debug_str(b, s->ptr, s->len); buf_puts(b, ")"); break;
  case CV_DIRECTORIES: buf_puts(b, "Directories("); buf_debug_strlist(b, (const cm_str *)s->ptr, s->len); buf_puts(b, ")"); break;
  case CV_FILES: buf_puts(b, "Files("); buf_debug_strlist(b, (const cm_str *)s->ptr, s->len); buf_puts(b, ")"); break;
  case CV_DROPDOWN: buf_puts(b, "Dropdown("); buf_debug_str(b, s->ptr, s->len); buf_puts(b, ")"); break;
  }
}

static const char *const level_names[] = {"Error", "Warn", "Info", "Debug", "Trace"};

// ---- logging: guest-side filtering like the Rust plugins_api logger ---------
static int32_t cm_level = LVL_ERROR;
static __attribute__((unused)) void cm_log(int32_t level, const char *msg, size_t n) {
  if (level <= cm_level) cm_host_log(level, msg, n);
}

// ---- config items ----------------------------------------------------------
static __attribute__((unused)) int str_eq(cm_str s, const char *lit) { return s.len == strlen(lit) && !memcmp(s.ptr, lit, s.len); }

// Frees a lowered list<config-item> (the callee owns it after the call).
static __attribute__((unused)) void free_config_items(uint8_t *items, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *it = items + i * CONFIG_ITEM_SIZE;
    cm_free(AT(it, 0, void *), AT(it, 4, uint32_t));
    uint8_t disc = it[8];
    if (disc == CV_TEXT || disc == CV_DROPDOWN) cm_free(AT(it, 12, void *), AT(it, 16, uint32_t));
    if (disc == CV_DIRECTORIES || disc == CV_FILES) {
      cm_str *l = AT(it, 12, cm_str *);
      for (uint32_t k = 0; k < AT(it, 16, uint32_t); k++) cm_free(l[k].ptr, l[k].len);
      cm_free(l, AT(it, 16, uint32_t));
    }
  }
  cm_free(items, n);
}

// Sets a result<_, init-error> (or any result<_, variant{..(string)}>) in the return area.
static __attribute__((unused)) uint8_t *ret_err_string(uint8_t case_, cm_buf *msg) {
  cm_ret[0] = 1;
  cm_ret[4] = case_;
  AT(cm_ret, 8, char *) = msg->p;
  AT(cm_ret, 12, uint32_t) = (uint32_t)msg->n;
  return cm_ret;
}

// ---- writers for get-config-schemas ------------------------------------------
static __attribute__((unused)) void put_str(uint8_t *at, const char *s) {
  AT(at, 0, const char *) = s;
  AT(at, 4, uint32_t) = (uint32_t)strlen(s);
}
// Static data is returned without copies: the host only reads it; post-return frees nothing.
static __attribute__((unused)) void put_schema(uint8_t *it, const char *id, const char *title, const char *desc, uint8_t type) {
  put_str(it, id);
  put_str(it + 8, title);
  it[16] = desc != NULL;
  if (desc) put_str(it + 20, desc);
  it[28] = type;
}

#endif

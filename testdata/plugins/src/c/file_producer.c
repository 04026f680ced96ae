// chipmunk:producer/produce@0.1.0 in C: a producer that reads the file named in its config through
// WASI preview 1 (the adapter turns that into the host's file system) and produces one row per
// line: columns([line number, text]). Empty lines are `skipped`, lines that start with '#' are
// `empty`; a produce-next that cannot finish a line with one read answers `incomplete`; the end
// of the file gives the last line (even without its '\n') and then `done`. Calling produce-next
// after `done` traps: a host must not do it. For the hosts' tests, `fail-at` N makes the call that
// reaches line N answer err(produce(...)), and `stall-at` N makes it log "looping" and spin.
#include "chipmunk_abi.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define IFACE "chipmunk:producer/producer@0.1.0#"

// produce-return: variant {item(parse-yield), skipped, incomplete, empty, done}; 88 bytes, align 8.
enum { PR_ITEM, PR_SKIPPED, PR_INCOMPLETE, PR_EMPTY, PR_DONE };
enum { PRE_UNRECOVERABLE, PRE_PRODUCE, PRE_OTHER };
#define PRODUCE_RETURN_SIZE 88

EXPORT(IFACE "get-version") uint8_t *get_version(void) { return cm_version(0, 1, 0); }

static _Alignas(4) uint8_t schemas[5 * SCHEMA_ITEM_SIZE];

EXPORT(IFACE "get-config-schemas") uint8_t *get_config_schemas(void) {
  put_schema(schemas, "input-path", "File Path", "The file whose lines become rows", CV_FILES);
  AT(schemas, 32, void *) = NULL; // files([]): any extension
  AT(schemas, 36, uint32_t) = 0;
  put_schema(schemas + SCHEMA_ITEM_SIZE, "lines-per-call", "Lines per call", "At most this many lines per produce-next", CV_INTEGER);
  AT(schemas + SCHEMA_ITEM_SIZE, 32, int32_t) = 1000;
  put_schema(schemas + 2 * SCHEMA_ITEM_SIZE, "chunk-size", "Read size", "Bytes asked for by each read of the file", CV_INTEGER);
  AT(schemas + 2 * SCHEMA_ITEM_SIZE, 32, int32_t) = 65536;
  put_schema(schemas + 3 * SCHEMA_ITEM_SIZE, "fail-at", "Fail at line", "Answer a produce error instead of this line (0: never)", CV_INTEGER);
  AT(schemas + 3 * SCHEMA_ITEM_SIZE, 32, int32_t) = 0;
  put_schema(schemas + 4 * SCHEMA_ITEM_SIZE, "stall-at", "Stall at line", "Spin forever instead of returning this line (0: never)", CV_INTEGER);
  AT(schemas + 4 * SCHEMA_ITEM_SIZE, 32, int32_t) = 0;
  AT(cm_ret, 0, uint8_t *) = schemas;
  AT(cm_ret, 4, uint32_t) = 5;
  return cm_ret;
}

static _Alignas(4) uint8_t columns[2 * COLUMN_INFO_SIZE];

EXPORT(IFACE "get-render-options") uint8_t *get_render_options(void) {
  put_str(columns, "Line");
  put_str(columns + 8, "Line number in the file");
  AT(columns, 16, int16_t) = 8;
  put_str(columns + 20, "Text");
  put_str(columns + 28, "The line");
  AT(columns, 36, int16_t) = -1;
  cm_ret[0] = 1; // some(columns-render-options)
  AT(cm_ret, 4, uint8_t *) = columns;
  AT(cm_ret, 8, uint32_t) = 2;
  AT(cm_ret, 12, uint16_t) = 8;
  AT(cm_ret, 14, uint16_t) = 600;
  return cm_ret;
}

// ---- init -------------------------------------------------------------------

static int fd = -1;
static int32_t lines_per_call = 1000, chunk_size = 65536, fail_at, stall_at;

static uint8_t *find_item(uint8_t *items, uint32_t n, const char *id) {
  for (uint32_t i = 0; i < n; i++)
    if (str_eq(AT(items + i * CONFIG_ITEM_SIZE, 0, cm_str), id)) return items + i * CONFIG_ITEM_SIZE;
  return NULL;
}

// int_item reads an integer config item into *out; 0 when absent, -1 (msg set) when wrong.
static int int_item(uint8_t *items, uint32_t n, const char *id, int32_t min, int32_t *out, cm_buf *msg) {
  uint8_t *it = find_item(items, n, id);
  if (!it) return 0;
  if (it[8] != CV_INTEGER || AT(it, 12, int32_t) < min) {
    buf_printf(msg, "'%s' must be an integer of at least %d, got ", id, min);
    buf_debug_value(msg, it + 8);
    return -1;
  }
  *out = AT(it, 12, int32_t);
  return 0;
}

static uint8_t *do_init(int32_t level, uint8_t *items, uint32_t n) {
  cm_buf msg = {0};
  cm_level = level;
  if (fd >= 0) __builtin_trap(); // one init per instance
  if (int_item(items, n, "lines-per-call", 1, &lines_per_call, &msg) < 0 || int_item(items, n, "chunk-size", 1, &chunk_size, &msg) < 0 ||
      int_item(items, n, "fail-at", 0, &fail_at, &msg) < 0 || int_item(items, n, "stall-at", 0, &stall_at, &msg) < 0)
    return ret_err_string(IE_CONFIG, &msg);
  if (lines_per_call > 1000000) lines_per_call = 1000000;
  uint8_t *it = find_item(items, n, "input-path");
  if (!it) {
    buf_puts(&msg, "No configuration value for id 'input-path' is provided");
    return ret_err_string(IE_CONFIG, &msg);
  }
  const cm_str *paths = AT(it, 12, const cm_str *);
  uint32_t npaths = AT(it, 16, uint32_t);
  if (it[8] != CV_FILES || npaths != 1) {
    buf_puts(&msg, "'input-path' must name exactly one file, got ");
    buf_debug_value(&msg, it + 8);
    return ret_err_string(IE_CONFIG, &msg);
  }
  char *path = malloc(paths[0].len + 1);
  memcpy(path, paths[0].ptr, paths[0].len);
  path[paths[0].len] = 0;
  fd = open(path, O_RDONLY);
  if (fd < 0) {
    buf_printf(&msg, "opening the input: %s (os error %d)", strerror(errno), errno);
    free(path);
    return ret_err_string(IE_IO, &msg);
  }
  buf_puts(&msg, "File producer opened ");
  buf_puts(&msg, path);
  cm_log(LVL_DEBUG, msg.p, msg.n);
  free(msg.p);
  free(path);
  cm_ret[0] = 0;
  return cm_ret;
}

EXPORT(IFACE "init") uint8_t *init(int32_t level, uint8_t *items, uint32_t n) {
  uint8_t *r = do_init(level, items, n);
  free_config_items(items, n);
  return r;
}

EXPORT("cabi_post_" IFACE "init") void post_init(uint8_t *r) {
  if (r[0]) free(AT(r, 8, void *));
}

// ---- produce-next -------------------------------------------------------------

// The unread part of the file is buf[pos:filled]. Rows point into buf, which is only moved or
// grown at the start of a call that has produced nothing yet, so they stay valid until the host
// has lifted them (and post-return runs).
static char *buf;
static size_t cap, pos, filled;
static int eof, done_sent;
static uint64_t lineno;

// Per call: the entries, their columns and the line-number strings, freed in post-return.
static uint8_t *entries;
static cm_str *cols;
static char *numbers;
static uint32_t nentries;

static uint8_t *entry(uint8_t kind) {
  uint8_t *e = entries + nentries++ * PRODUCE_RETURN_SIZE;
  memset(e, 0, PRODUCE_RETURN_SIZE);
  e[0] = kind;
  return e;
}

static int failed; // fail-at was reached in this call

// put_line appends item(message(columns([number, text]))) for a line of len bytes at p.
static void put_line(const char *p, size_t len) {
  if (stall_at && lineno + 1 == (uint64_t)stall_at) {
    cm_host_log(LVL_INFO, "looping", 7); // unfiltered: the hosts' tests wait for it
    for (volatile int spin = 1; spin;) {
    }
  }
  if (fail_at && lineno + 1 == (uint64_t)fail_at) {
    failed = 1;
    return;
  }
  uint8_t *e = entry(PR_ITEM);
  uint32_t k = nentries - 1;
  char *num = numbers + k * 21;
  int nlen = snprintf(num, 21, "%llu", (unsigned long long)++lineno);
  cols[2 * k] = (cm_str){num, (uint32_t)nlen};
  cols[2 * k + 1] = (cm_str){p, (uint32_t)len};
  e[8] = 0;  // parse-yield.message
  e[16] = 1; // parsed-message.columns
  AT(e, 20, cm_str *) = &cols[2 * k];
  AT(e, 24, uint32_t) = 2;
}

// take_lines turns the complete lines in the buffer into entries, up to lines-per-call.
static void take_lines(void) {
  while (nentries < (uint32_t)lines_per_call && pos < filled && !failed) {
    char *nl = memchr(buf + pos, '\n', filled - pos);
    if (!nl) return;
    size_t len = (size_t)(nl - (buf + pos));
    if (len == 0) {
      lineno++;
      entry(PR_SKIPPED);
    } else if (buf[pos] == '#') {
      lineno++;
      entry(PR_EMPTY);
    } else {
      put_line(buf + pos, len);
    }
    pos += len + 1;
  }
}

// fill reads once, after moving the unread bytes to the front (growing the buffer when a line
// fills it). It returns the read error's errno, or 0.
static int fill(void) {
  memmove(buf, buf + pos, filled - pos);
  filled -= pos;
  pos = 0;
  size_t want = (size_t)chunk_size;
  if (cap - filled < want) {
    size_t c = cap ? cap : 4096;
    while (c - filled < want) c *= 2;
    buf = realloc(buf, c);
    if (!buf) abort();
    cap = c;
  }
  ssize_t got = read(fd, buf + filled, want);
  if (got < 0) return errno;
  if (got == 0) eof = 1;
  filled += (size_t)got;
  return 0;
}

EXPORT(IFACE "produce-next") uint8_t *produce_next(void) {
  if (fd < 0 || done_sent) __builtin_trap(); // before init, or after done
  uint32_t most = (uint32_t)lines_per_call + 2;
  entries = malloc(most * PRODUCE_RETURN_SIZE);
  cols = malloc(most * 2 * sizeof(cm_str));
  numbers = malloc(most * 21);
  if (!entries || !cols || !numbers) abort();
  nentries = 0;
  take_lines();
  if (nentries == 0 && !eof) {
    int err = fill();
    if (err) {
      cm_buf msg = {0};
      buf_printf(&msg, "reading the input: %s (os error %d)", strerror(err), err);
      return ret_err_string(PRE_UNRECOVERABLE, &msg);
    }
    take_lines();
  }
  if (eof && nentries < (uint32_t)lines_per_call && (pos == filled || !memchr(buf + pos, '\n', filled - pos))) {
    if (pos < filled) {
      put_line(buf + pos, filled - pos); // the last line, without its '\n'
      pos = filled;
    }
    entry(PR_DONE);
    done_sent = 1;
  }
  if (failed) {
    cm_buf msg = {0};
    buf_printf(&msg, "line %d: failing as configured (fail-at)", fail_at);
    failed = 0;
    fail_at = 0;
    return ret_err_string(PRE_PRODUCE, &msg);
  }
  if (nentries == 0) entry(PR_INCOMPLETE);
  return cm_items(entries, nentries);
}

EXPORT("cabi_post_" IFACE "produce-next") void post_produce_next(uint8_t *r) {
  if (r[0]) free(AT(r, 8, void *));
  free(entries);
  free(cols);
  free(numbers);
  entries = NULL;
  cols = NULL;
  numbers = NULL;
}

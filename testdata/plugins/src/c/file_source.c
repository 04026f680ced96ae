// chipmunk:bytesource/bytesource@0.1.0 in C: a behavioural copy of Chipmunk's Rust example
// `plugins/examples/rust/file_source` (design/chipmunk-plugins.md §6.4). The Rust plugin reads
// through a std::io::BufReader (8 KiB); read() below reproduces its chunking exactly.
#include "chipmunk_abi.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define IFACE "chipmunk:bytesource/byte-source@0.1.0#"

EXPORT(IFACE "get-version") uint8_t *get_version(void) {
  AT(cm_ret, 0, uint16_t) = 0;
  AT(cm_ret, 2, uint16_t) = 1;
  AT(cm_ret, 4, uint16_t) = 0;
  return cm_ret;
}

static _Alignas(4) uint8_t schema[SCHEMA_ITEM_SIZE];

EXPORT(IFACE "get-config-schemas") uint8_t *get_config_schemas(void) {
  put_schema(schema, "input-path", "File Path", "The path of the input file to read from", CV_FILES);
  AT(schema, 32, void *) = NULL; // files([]): no extension filter
  AT(schema, 36, uint32_t) = 0;
  AT(cm_ret, 0, uint8_t *) = schema;
  AT(cm_ret, 4, uint32_t) = 1;
  return cm_ret;
}

static int fd = -1;

// Rust's io::Error Display for an OS error.
static void buf_io_error(cm_buf *b, int err) { buf_printf(b, "%s (os error %d)", strerror(err), err); }

static uint8_t *do_init(int32_t level, uint8_t *items, uint32_t n) {
  cm_buf msg = {0};
  cm_level = level;
  uint8_t *it = NULL;
  for (uint32_t i = 0; i < n && !it; i++)
    if (str_eq(AT(items + i * CONFIG_ITEM_SIZE, 0, cm_str), "input-path")) it = items + i * CONFIG_ITEM_SIZE;
  if (!it) {
    buf_puts(&msg, "No configuration value for id 'input-path' is provided");
    return ret_err_string(IE_CONFIG, &msg);
  }
  if (it[8] != CV_FILES) {
    buf_puts(&msg, "Invalid config value for 'input-path' is provided. Value: ");
    buf_debug_value(&msg, it + 8);
    return ret_err_string(IE_CONFIG, &msg);
  }
  const cm_str *paths = AT(it, 12, const cm_str *);
  uint32_t npaths = AT(it, 16, uint32_t);
  if (npaths != 1) {
    buf_puts(&msg, "Pluign expects one file only but got: "); // sic, as in Chipmunk
    buf_debug_strlist(&msg, paths, npaths);
    return ret_err_string(IE_CONFIG, &msg);
  }
  char *path = malloc(paths[0].len + 1);
  memcpy(path, paths[0].ptr, paths[0].len);
  path[paths[0].len] = 0;
  fd = open(path, O_RDONLY);
  if (fd < 0) {
    buf_io_error(&msg, errno);
    free(path);
    return ret_err_string(IE_IO, &msg);
  }
  buf_puts(&msg, "File source opened ");
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

// BufReader state.
#define BUF_CAP 8192
static uint8_t rbuf[BUF_CAP];
static size_t rpos, rfilled;

// read(len: u64) -> result<list<u8>, source-error>
EXPORT(IFACE "read") uint8_t *read_bytes(uint64_t len) {
  if (fd < 0) __builtin_trap(); // Rust: read before init panics
  if (len > 0x7fffffff) abort(); // vec![0; len] cannot be allocated on wasm32
  uint8_t *out = malloc(len ? (size_t)len : 1);
  if (!out) abort();
  ssize_t got;
  if (rpos == rfilled && len >= BUF_CAP) {
    rpos = rfilled = 0;
    got = read(fd, out, (size_t)len);
  } else {
    got = 0;
    if (rpos >= rfilled) {
      got = read(fd, rbuf, BUF_CAP);
      rpos = 0;
      rfilled = got < 0 ? 0 : (size_t)got;
    }
    if (got >= 0) {
      got = (ssize_t)(rfilled - rpos);
      if ((size_t)got > len) got = (ssize_t)len;
      memcpy(out, rbuf + rpos, (size_t)got);
      rpos += (size_t)got;
    }
  }
  if (got < 0) {
    cm_buf msg = {0};
    buf_puts(&msg, "Error while reading from file: ");
    buf_io_error(&msg, errno);
    free(out);
    return ret_err_string(SE_IO, &msg);
  }
  cm_ret[0] = 0;
  AT(cm_ret, 4, uint8_t *) = out;
  AT(cm_ret, 8, uint32_t) = (uint32_t)got;
  return cm_ret;
}

EXPORT("cabi_post_" IFACE "read") void post_read(uint8_t *r) {
  free(AT(r, r[0] ? 8 : 4, void *));
}

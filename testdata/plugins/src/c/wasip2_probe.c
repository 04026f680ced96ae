// A chipmunk:parser/parse@0.1.0 parser that calls WASI 0.2 functions directly (its own imports
// of wasi:clocks, wasi:io, wasi:random and wasi:cli at 0.2.x, no wasi-libc in between), for
// chiphost's tests of its WASI 0.2 host and of resource handles. Built as a bare core module.
// Each input line is one command; each gives one row `CMD => RESULT`, or traps on purpose:
//
//   clock        monotonic now, a 1 ms timer pollable: ready?, block, ready?, drop
//   poll         poll [a 1 h timer, a 0 s timer, the 1 h timer]: the ready indexes
//   random       16 secure bytes and a u64 (rows show only the sizes)
//   wall         wall-clock seconds since the epoch > 1e9
//   env          the environment variables the plugin sees (NAME=VALUE, ...)
//   stdout TEXT  TEXT and a newline through wasi:cli/stdout (a log line of the host)
//   stdin        read from wasi:cli/stdin: closed
//   sleep N      block on an N s timer (stopped by the call deadline)
//   handles N    create N timers, then drop them all: the host's handle count is back at 0
//   drop-twice   drop a pollable twice (trap: handle not in the table)
//   use-dropped  block on a dropped pollable (trap)
//   bogus        block on a handle never given (trap)
//   exhaust      create timers without dropping them (trap: the handle table is full)
//   exit-ok, exit-err  wasi:cli/exit.exit (the instance ends)
//   sockets      instance-network, then a TCP socket, a UDP socket and a name lookup: denied?
//   preopens     how many preopened directories, and which of them is writable (the temp dir)
//   write P TEXT create P (relative to the writable preopen) with TEXT, through write-via-stream
//   read P       the first 64 bytes of P: relative to the writable preopen, or an absolute path
//                under another preopen (through read-via-stream and input-stream.read)
//   list         the names in the writable preopen
//   symlink T L  a link L to T in the writable preopen
//   stat P       the type and size of P in the writable preopen (without following links)
//   hold P N     open P (read) N times, keeping the descriptors: how many opened, and the error
//   release      drop every descriptor hold kept
//   pollmany N   poll a list of N copies of one ready pollable: how many are ready
//   bigread P    descriptor.read and input-stream.read of P asking for 2^64-1 bytes: the sizes got
//   random-n N   get-random-bytes(N): the size got
//   rowrite P    open P read-only, then write-via-stream, append-via-stream, descriptor.write
//                and set-size on it: each one's result
//   farwrite P   create P, write "x" through a stream at offset 2^63-1: the write's result
//   mutflag      open the first read-only preopen's "." asking for mutate-directory: the flags
//                given, then create-directory-at in it
//   dropparent P open P, read-via-stream, drop the descriptor while the stream lives (the host
//                traps), then read from the stream
//   reenter      readlink-at whose result's realloc calls wasi:clocks now and then drops the
//                descriptor lent to readlink-at (the host must trap the first nested call)
// File-system rows end `=> ok ...` or `=> err ERROR-CODE`.
#define CM_REALLOC_HOOK 1
#include "chipmunk_abi.h"

#define IFACE "chipmunk:parser/parser@0.1.0#"
#define CLOCKS "wasi:clocks/monotonic-clock@0.2.3"
#define POLL "wasi:io/poll@0.2.0"
#define STREAMS "wasi:io/streams@0.2.6"

IMPORT(CLOCKS, "now") int64_t mono_now(void);
IMPORT(CLOCKS, "subscribe-duration") int32_t subscribe_duration(int64_t ns);
IMPORT(POLL, "[method]pollable.ready") int32_t pollable_ready(int32_t p);
IMPORT(POLL, "[method]pollable.block") void pollable_block(int32_t p);
IMPORT(POLL, "[resource-drop]pollable") void pollable_drop(int32_t p);
IMPORT(POLL, "poll") void poll_list(int32_t *ps, uint32_t n, uint8_t *ret);
IMPORT("wasi:random/random@0.2.0", "get-random-bytes") void random_bytes(int64_t n, uint8_t *ret);
IMPORT("wasi:random/random@0.2.0", "get-random-u64") int64_t random_u64(void);
IMPORT("wasi:clocks/wall-clock@0.2.1", "now") void wall_now(uint8_t *ret);
IMPORT("wasi:cli/environment@0.2.0", "get-environment") void get_environment(uint8_t *ret);
IMPORT("wasi:cli/stdout@0.2.0", "get-stdout") int32_t get_stdout(void);
IMPORT("wasi:cli/stdin@0.2.0", "get-stdin") int32_t get_stdin(void);
IMPORT("wasi:cli/exit@0.2.0", "exit") void wasi_exit(int32_t err);
IMPORT(STREAMS, "[method]output-stream.check-write") void check_write(int32_t s, uint8_t *ret);
IMPORT(STREAMS, "[method]output-stream.write") void stream_write(int32_t s, const char *p, uint32_t n, uint8_t *ret);
IMPORT(STREAMS, "[method]output-stream.blocking-flush") void blocking_flush(int32_t s, uint8_t *ret);
IMPORT(STREAMS, "[resource-drop]output-stream") void output_drop(int32_t s);
IMPORT(STREAMS, "[method]input-stream.read") void stream_read(int32_t s, int64_t n, uint8_t *ret);
IMPORT(STREAMS, "[resource-drop]input-stream") void input_drop(int32_t s);
IMPORT("wasi:sockets/instance-network@0.2.0", "instance-network") int32_t instance_network(void);
IMPORT("wasi:sockets/network@0.2.0", "[resource-drop]network") void network_drop(int32_t n);
IMPORT("wasi:sockets/tcp-create-socket@0.2.0", "create-tcp-socket") void create_tcp_socket(int32_t family, uint8_t *ret);
IMPORT("wasi:sockets/udp-create-socket@0.2.3", "create-udp-socket") void create_udp_socket(int32_t family, uint8_t *ret);
#define FS "wasi:filesystem/types@0.2.2"
IMPORT("wasi:filesystem/preopens@0.2.2", "get-directories") void get_directories(uint8_t *ret);
IMPORT(FS, "[method]descriptor.open-at") void open_at(int32_t d, int32_t pflags, const char *p, uint32_t n, int32_t oflags, int32_t flags, uint8_t *ret);
IMPORT(FS, "[method]descriptor.read-via-stream") void read_via_stream(int32_t d, int64_t off, uint8_t *ret);
IMPORT(FS, "[method]descriptor.write-via-stream") void write_via_stream(int32_t d, int64_t off, uint8_t *ret);
IMPORT(FS, "[method]descriptor.get-flags") void get_flags(int32_t d, uint8_t *ret);
IMPORT(FS, "[method]descriptor.read-directory") void read_directory(int32_t d, uint8_t *ret);
IMPORT(FS, "[method]directory-entry-stream.read-directory-entry") void read_directory_entry(int32_t s, uint8_t *ret);
IMPORT(FS, "[method]descriptor.symlink-at") void symlink_at(int32_t d, const char *t, uint32_t tn, const char *l, uint32_t ln, uint8_t *ret);
IMPORT(FS, "[method]descriptor.stat-at") void stat_at(int32_t d, int32_t pflags, const char *p, uint32_t n, uint8_t *ret);
IMPORT(FS, "[resource-drop]descriptor") void descriptor_drop(int32_t d);
IMPORT(FS, "[resource-drop]directory-entry-stream") void dir_stream_drop(int32_t s);
IMPORT(FS, "[method]descriptor.append-via-stream") void append_via_stream(int32_t d, uint8_t *ret);
IMPORT(FS, "[method]descriptor.read") void desc_read(int32_t d, int64_t len, int64_t off, uint8_t *ret);
IMPORT(FS, "[method]descriptor.write") void desc_write(int32_t d, const char *p, uint32_t n, int64_t off, uint8_t *ret);
IMPORT(FS, "[method]descriptor.set-size") void set_size(int32_t d, int64_t size, uint8_t *ret);
IMPORT(FS, "[method]descriptor.readlink-at") void readlink_at(int32_t d, const char *p, uint32_t n, uint8_t *ret);
IMPORT(FS, "[method]descriptor.create-directory-at") void create_dir_at(int32_t d, const char *p, uint32_t n, uint8_t *ret);
IMPORT("wasi:sockets/ip-name-lookup@0.2.0", "resolve-addresses") void resolve_addresses(int32_t n, const char *p, uint32_t len, uint8_t *ret);

EXPORT(IFACE "get-version") uint8_t *get_version(void) { return cm_version(0, 1, 0); }

// One setting, `dir` (directories): configured directories become read-only preopens.
static _Alignas(4) uint8_t schema[SCHEMA_ITEM_SIZE];
EXPORT(IFACE "get-config-schemas") uint8_t *get_config_schemas(void) {
  put_schema(schema, "dir", "Directory", "Directories the probe may read", CV_DIRECTORIES);
  AT(cm_ret, 0, uint8_t *) = schema;
  AT(cm_ret, 4, uint32_t) = 1;
  return cm_ret;
}

EXPORT(IFACE "get-render-options") uint8_t *get_render_options(void) {
  cm_ret[0] = 0; // none
  return cm_ret;
}

EXPORT(IFACE "init") uint8_t *init(int32_t level, uint8_t *items, uint32_t n) {
  cm_level = level;
  free_config_items(items, n);
  cm_ret[0] = 0;
  return cm_ret;
}

static _Alignas(8) uint8_t ret[128]; // return area of the imports (descriptor-stat takes 104 bytes)

static void do_clock(cm_buf *out) {
  int64_t t0 = mono_now();
  int32_t p = subscribe_duration(1000000);
  int before = pollable_ready(p);
  pollable_block(p);
  int after = pollable_ready(p);
  int64_t t1 = mono_now();
  pollable_drop(p);
  buf_printf(out, " => handle %d, ready %d then %d, waited >= 1 ms: %d", (int)p, before, after, t1 - t0 >= 1000000);
}

static void do_poll(cm_buf *out) {
  int32_t ps[3];
  ps[0] = subscribe_duration(3600LL * 1000000000LL);
  ps[1] = subscribe_duration(0);
  ps[2] = ps[0];
  poll_list(ps, 3, ret);
  uint32_t *idx = AT(ret, 0, uint32_t *);
  uint32_t n = AT(ret, 4, uint32_t);
  buf_puts(out, " => ready");
  for (uint32_t i = 0; i < n; i++) buf_printf(out, " %u", idx[i]);
  cm_free(idx, n * 4);
  pollable_drop(ps[0]);
  pollable_drop(ps[1]);
}

static void do_random(cm_buf *out) {
  random_bytes(16, ret);
  uint8_t *b = AT(ret, 0, uint8_t *);
  uint32_t n = AT(ret, 4, uint32_t);
  cm_free(b, n);
  (void)random_u64();
  buf_printf(out, " => %u bytes and a u64", n);
}

static void do_wall(cm_buf *out) {
  wall_now(ret);
  buf_printf(out, " => after 2001: %d", AT(ret, 0, uint64_t) > 1000000000ULL);
}

static void do_env(cm_buf *out) {
  get_environment(ret);
  cm_str *kv = AT(ret, 0, cm_str *);
  uint32_t n = AT(ret, 4, uint32_t);
  buf_printf(out, " => %u:", n);
  for (uint32_t i = 0; i < n; i++) {
    buf_puts(out, " ");
    buf_put(out, kv[2 * i].ptr, kv[2 * i].len);
    buf_puts(out, "=");
    buf_put(out, kv[2 * i + 1].ptr, kv[2 * i + 1].len);
  }
}

static void do_stdout(cm_buf *out, const char *text) {
  int32_t s = get_stdout();
  check_write(s, ret);
  int ok = ret[0] == 0 && AT(ret, 8, uint64_t) > strlen(text);
  cm_buf line = {0};
  buf_puts(&line, text);
  buf_puts(&line, "\n");
  stream_write(s, line.p, (uint32_t)line.n, ret);
  ok = ok && ret[0] == 0;
  blocking_flush(s, ret);
  ok = ok && ret[0] == 0;
  output_drop(s);
  free(line.p);
  buf_printf(out, " => written: %d", ok);
}

static void do_stdin(cm_buf *out) {
  int32_t s = get_stdin();
  stream_read(s, 10, ret);
  // result<list<u8>, stream-error>: err(closed) is disc 1, stream-error case 1
  buf_printf(out, " => %s", ret[0] == 1 && AT(ret, 4, uint32_t) == 1 ? "closed" : "data");
  input_drop(s);
}

// denied says whether ret holds err(error-code::access-denied), case 1.
static int denied(void) { return ret[0] == 1 && ret[4] == 1; }

static void do_sockets(cm_buf *out) {
  int32_t n = instance_network();
  create_tcp_socket(0, ret);
  int tcp = denied();
  create_udp_socket(1, ret);
  int udp = denied();
  resolve_addresses(n, "example.com", 11, ret);
  int lookup = denied();
  network_drop(n);
  buf_printf(out, " => tcp denied %d, udp denied %d, lookup denied %d", tcp, udp, lookup);
}

static const char *const fs_errors[] = {
  "access", "would-block", "already", "bad-descriptor", "busy", "deadlock", "quota", "exist",
  "file-too-large", "illegal-byte-sequence", "in-progress", "interrupted", "invalid", "io",
  "is-directory", "loop", "too-many-links", "message-size", "name-too-long", "no-device", "no-entry",
  "no-lock", "insufficient-memory", "insufficient-space", "not-directory", "not-empty",
  "not-recoverable", "unsupported", "no-tty", "no-such-device", "overflow", "not-permitted", "pipe",
  "read-only", "invalid-seek", "text-file-busy", "cross-device",
};

static void put_fs_err(cm_buf *out, uint8_t code) {
  buf_printf(out, " => err %s", code < sizeof fs_errors / sizeof fs_errors[0] ? fs_errors[code] : "?");
}

// Preopens: their descriptors and guest names, and which is writable.
typedef struct { int32_t fd; cm_str name; } preopen;
static preopen *pre;
static uint32_t npre;
static int32_t writable = -1;

static void load_preopens(void) {
  if (pre) return;
  get_directories(ret);
  pre = AT(ret, 0, preopen *);
  npre = AT(ret, 4, uint32_t);
  for (uint32_t i = 0; i < npre; i++) {
    get_flags(pre[i].fd, ret);
    if (ret[0] == 0 && (ret[1] & 2)) writable = pre[i].fd; // flags: read=1, write=2
  }
}

// at picks the preopen and the relative path of p: an absolute path under a
// preopen's name, or a path relative to the writable preopen.
static int32_t at(const char **p) {
  if (**p != '/') return writable;
  for (uint32_t i = 0; i < npre; i++) {
    cm_str n = pre[i].name;
    if (!strncmp(*p, n.ptr, n.len) && (*p)[n.len] == '/') {
      *p += n.len + 1;
      return pre[i].fd;
    }
  }
  return writable; // absolute path under no preopen: the host refuses it
}

static void do_write(cm_buf *out, char *arg) {
  char *text = strchr(arg, ' ');
  if (text) *text++ = 0;
  const char *p = arg;
  int32_t d = at(&p);
  open_at(d, 0, p, (uint32_t)strlen(p), 1 | 8, 2, ret); // create|truncate, write
  if (ret[0]) return put_fs_err(out, ret[4]);
  int32_t f = AT(ret, 4, int32_t);
  write_via_stream(f, 0, ret);
  if (ret[0]) return put_fs_err(out, ret[4]);
  int32_t s = AT(ret, 4, int32_t);
  stream_write(s, text ? text : "", text ? (uint32_t)strlen(text) : 0, ret);
  int wrote = ret[0] == 0;
  output_drop(s);
  descriptor_drop(f);
  buf_printf(out, " => ok written %d", wrote);
}

static void do_read(cm_buf *out, const char *p) {
  int32_t d = at(&p);
  open_at(d, 1, p, (uint32_t)strlen(p), 0, 1, ret); // follow links, read
  if (ret[0]) return put_fs_err(out, ret[4]);
  int32_t f = AT(ret, 4, int32_t);
  read_via_stream(f, 0, ret);
  if (ret[0]) return put_fs_err(out, ret[4]);
  int32_t s = AT(ret, 4, int32_t);
  stream_read(s, 64, ret);
  buf_puts(out, " => ok ");
  if (ret[0] == 0) {
    char *b = AT(ret, 4, char *);
    uint32_t n = AT(ret, 8, uint32_t);
    for (uint32_t i = 0; i < n; i++) buf_put(out, b[i] == '\n' ? "|" : &b[i], 1);
    cm_free(b, n);
  } else {
    buf_puts(out, "(end)");
  }
  input_drop(s);
  descriptor_drop(f);
}

static void do_list(cm_buf *out) {
  read_directory(writable, ret);
  if (ret[0]) return put_fs_err(out, ret[4]);
  int32_t s = AT(ret, 4, int32_t);
  buf_puts(out, " => ok");
  for (;;) {
    read_directory_entry(s, ret);
    if (ret[0] || !ret[4]) break;
    buf_puts(out, " ");
    buf_put(out, AT(ret, 12, char *), AT(ret, 16, uint32_t));
    cm_free(AT(ret, 12, char *), AT(ret, 16, uint32_t));
  }
  dir_stream_drop(s);
}

static void do_symlink(cm_buf *out, char *arg) {
  char *link = strchr(arg, ' ');
  if (!link) return buf_puts(out, " => usage");
  *link++ = 0;
  symlink_at(writable, arg, (uint32_t)strlen(arg), link, (uint32_t)strlen(link), ret);
  if (ret[0]) return put_fs_err(out, ret[1]); // result<_, error-code>: payload at 1
  buf_puts(out, " => ok");
}

static void do_stat(cm_buf *out, const char *p) {
  int32_t d = at(&p);
  stat_at(d, 0, p, (uint32_t)strlen(p), ret);
  if (ret[0]) return put_fs_err(out, ret[8]); // payload aligned to 8 (u64 fields)
  static const char *const types[] = {"unknown", "block-device", "character-device", "directory", "fifo", "symbolic-link", "regular-file", "socket"};
  buf_printf(out, " => ok %s size %llu", types[ret[8] & 7], (unsigned long long)AT(ret, 24, uint64_t));
}

// open_file opens p (relative to the writable preopen, or absolute under another) with the
// descriptor flags and open flags given: its descriptor, or -1 with the error code in *code.
static int32_t open_file(const char *p, int32_t flags, int32_t oflags, uint8_t *code) {
  int32_t d = at(&p);
  open_at(d, 1, p, (uint32_t)strlen(p), oflags, flags, ret);
  if (ret[0]) {
    *code = ret[4];
    return -1;
  }
  return AT(ret, 4, int32_t);
}

static int32_t held[1 << 16];
static int nheld;

static void do_hold(cm_buf *out, char *arg) {
  char *n = strchr(arg, ' ');
  if (!n) return buf_puts(out, " => usage");
  *n++ = 0;
  int want = atoi(n), got = 0;
  uint8_t code = 0;
  for (; got < want && nheld < (int)(sizeof held / sizeof held[0]); got++) {
    int32_t f = open_file(arg, 1, 0, &code);
    if (f < 0) break;
    held[nheld++] = f;
  }
  buf_printf(out, " => %d opened", got);
  if (got < want) put_fs_err(out, code);
}

static void do_release(cm_buf *out) {
  int n = nheld;
  while (nheld > 0) descriptor_drop(held[--nheld]);
  buf_printf(out, " => %d dropped", n);
}

static void do_pollmany(cm_buf *out, const char *arg) {
  int n = atoi(arg);
  int32_t p = subscribe_duration(0);
  int32_t *ps = malloc(sizeof(int32_t) * (n > 0 ? n : 1));
  for (int i = 0; i < n; i++) ps[i] = p;
  poll_list(ps, (uint32_t)n, ret);
  uint32_t ready = AT(ret, 4, uint32_t);
  cm_free(AT(ret, 0, void *), ready * 4);
  free(ps);
  pollable_drop(p);
  buf_printf(out, " => %u ready", ready);
}

static void do_bigread(cm_buf *out, const char *p) {
  uint8_t code = 0;
  int32_t f = open_file(p, 1, 0, &code);
  if (f < 0) return put_fs_err(out, code);
  desc_read(f, -1, 0, ret); // result<tuple<list<u8>, bool>, error-code>
  if (ret[0]) return put_fs_err(out, ret[4]);
  uint32_t dn = AT(ret, 8, uint32_t);
  cm_free(AT(ret, 4, void *), dn);
  read_via_stream(f, 0, ret);
  if (ret[0]) return put_fs_err(out, ret[4]);
  int32_t s = AT(ret, 4, int32_t);
  stream_read(s, -1, ret);
  uint32_t sn = ret[0] ? 0 : AT(ret, 8, uint32_t);
  if (!ret[0]) cm_free(AT(ret, 4, void *), sn);
  input_drop(s);
  descriptor_drop(f);
  buf_printf(out, " => descriptor.read %u bytes, input-stream.read %u bytes", dn, sn);
}

// stream_result names the result<_, stream-error> in ret.
static const char *stream_result(void) {
  if (!ret[0]) return "ok";
  return ret[4] == 0 ? "last-operation-failed" : "closed";
}

static void do_rowrite(cm_buf *out, const char *p) {
  uint8_t code = 0;
  int32_t f = open_file(p, 1, 0, &code);
  if (f < 0) return put_fs_err(out, code);
  write_via_stream(f, 0, ret);
  buf_puts(out, " => write-via-stream");
  if (ret[0]) put_fs_err(out, ret[4]); else { buf_puts(out, " ok"); output_drop(AT(ret, 4, int32_t)); }
  append_via_stream(f, ret);
  buf_puts(out, ", append-via-stream");
  if (ret[0]) put_fs_err(out, ret[4]); else { buf_puts(out, " ok"); output_drop(AT(ret, 4, int32_t)); }
  desc_write(f, "ZZ", 2, 0, ret); // result<filesize, error-code>: payload at 8
  buf_puts(out, ", write");
  if (ret[0]) put_fs_err(out, ret[8]); else buf_puts(out, " ok");
  set_size(f, 0, ret);
  buf_puts(out, ", set-size");
  if (ret[0]) put_fs_err(out, ret[1]); else buf_puts(out, " ok");
  descriptor_drop(f);
}

static void do_farwrite(cm_buf *out, const char *p) {
  uint8_t code = 0;
  int32_t f = open_file(p, 2, 1, &code); // write; create
  if (f < 0) return put_fs_err(out, code);
  write_via_stream(f, 0x7fffffffffffffffLL, ret);
  if (ret[0]) return put_fs_err(out, ret[4]);
  int32_t s = AT(ret, 4, int32_t);
  stream_write(s, "x", 1, ret);
  buf_printf(out, " => write %s", stream_result());
  output_drop(s);
  descriptor_drop(f);
}

static void do_mutflag(cm_buf *out) {
  int32_t ro = -1;
  for (uint32_t i = 0; i < npre && ro < 0; i++)
    if (pre[i].fd != writable) ro = pre[i].fd;
  if (ro < 0) return buf_puts(out, " => no read-only preopen");
  open_at(ro, 1, ".", 1, 2, 1 | 32, ret); // directory; read | mutate-directory
  if (ret[0]) return put_fs_err(out, ret[4]);
  int32_t d = AT(ret, 4, int32_t);
  get_flags(d, ret);
  buf_printf(out, " => flags %d, mkdir", ret[1]);
  create_dir_at(d, "made-by-mutflag", 15, ret);
  if (ret[0]) put_fs_err(out, ret[1]); else buf_puts(out, " ok");
  descriptor_drop(d);
}

static void do_dropparent(cm_buf *out, const char *p) {
  uint8_t code = 0;
  int32_t f = open_file(p, 1, 0, &code);
  if (f < 0) return put_fs_err(out, code);
  read_via_stream(f, 0, ret);
  if (ret[0]) return put_fs_err(out, ret[4]);
  int32_t s = AT(ret, 4, int32_t);
  descriptor_drop(f);
  stream_read(s, 16, ret);
  buf_printf(out, " => read after the drop: %s", stream_result());
  input_drop(s);
}

static int32_t hook_descriptor = -1;

static void cm_realloc_hook(void) {
  int32_t d = hook_descriptor;
  if (d < 0) return;
  hook_descriptor = -1;
  (void)mono_now();     // a nested import: ends the lends of the outer call on a careless host
  descriptor_drop(d);   // then the descriptor lent to the outer call
}

static void do_reenter(cm_buf *out) {
  uint8_t code = 0;
  int32_t d = open_file(".", 1, 2, &code); // a directory descriptor of the writable preopen
  if (d < 0) return put_fs_err(out, code);
  symlink_at(d, "target", 6, "reenter-link", 12, ret);
  hook_descriptor = d;
  readlink_at(d, "reenter-link", 12, ret); // the result's string goes through cabi_realloc
  hook_descriptor = -1;
  get_flags(d, ret);
  buf_printf(out, " => the descriptor still works: %d", ret[0] == 0);
}

static void run(cm_buf *out, char *line) {
  char *arg = strchr(line, ' ');
  if (arg) *arg++ = 0;
  buf_puts(out, line);
  load_preopens();
  if (!strcmp(line, "clock")) {
    do_clock(out);
  } else if (!strcmp(line, "poll")) {
    do_poll(out);
  } else if (!strcmp(line, "random")) {
    do_random(out);
  } else if (!strcmp(line, "wall")) {
    do_wall(out);
  } else if (!strcmp(line, "env")) {
    do_env(out);
  } else if (!strcmp(line, "stdout")) {
    do_stdout(out, arg ? arg : "");
  } else if (!strcmp(line, "preopens")) {
    buf_printf(out, " => %u, writable %d", npre, writable >= 0);
  } else if (!strcmp(line, "write")) {
    do_write(out, arg ? arg : "");
  } else if (!strcmp(line, "read")) {
    do_read(out, arg ? arg : "");
  } else if (!strcmp(line, "list")) {
    do_list(out);
  } else if (!strcmp(line, "symlink")) {
    do_symlink(out, arg ? arg : "");
  } else if (!strcmp(line, "stat")) {
    do_stat(out, arg ? arg : "");
  } else if (!strcmp(line, "sockets")) {
    do_sockets(out);
  } else if (!strcmp(line, "stdin")) {
    do_stdin(out);
  } else if (!strcmp(line, "sleep")) {
    int32_t p = subscribe_duration((int64_t)atoi(arg ? arg : "0") * 1000000000LL);
    pollable_block(p);
    pollable_drop(p);
    buf_puts(out, " => woke up");
  } else if (!strcmp(line, "handles")) {
    int n = atoi(arg ? arg : "0");
    int32_t *ps = malloc(sizeof(int32_t) * (n > 0 ? n : 1));
    for (int i = 0; i < n; i++) ps[i] = subscribe_duration(0);
    for (int i = 0; i < n; i++) pollable_drop(ps[i]);
    free(ps);
    buf_printf(out, " => %d created and dropped", n);
  } else if (!strcmp(line, "drop-twice")) {
    int32_t p = subscribe_duration(0);
    pollable_drop(p);
    pollable_drop(p);
  } else if (!strcmp(line, "use-dropped")) {
    int32_t p = subscribe_duration(0);
    pollable_drop(p);
    pollable_block(p);
  } else if (!strcmp(line, "bogus")) {
    pollable_block(12345);
  } else if (!strcmp(line, "exhaust")) {
    for (;;) subscribe_duration(0);
  } else if (!strcmp(line, "exit-ok")) {
    wasi_exit(0);
  } else if (!strcmp(line, "exit-err")) {
    wasi_exit(1);
  } else if (!strcmp(line, "hold")) {
    do_hold(out, arg ? arg : "");
  } else if (!strcmp(line, "release")) {
    do_release(out);
  } else if (!strcmp(line, "pollmany")) {
    do_pollmany(out, arg ? arg : "0");
  } else if (!strcmp(line, "bigread")) {
    do_bigread(out, arg ? arg : "");
  } else if (!strcmp(line, "random-n")) {
    random_bytes(atoll(arg ? arg : "0"), ret);
    cm_free(AT(ret, 0, void *), AT(ret, 4, uint32_t));
    buf_printf(out, " => %u bytes", AT(ret, 4, uint32_t));
  } else if (!strcmp(line, "rowrite")) {
    do_rowrite(out, arg ? arg : "");
  } else if (!strcmp(line, "farwrite")) {
    do_farwrite(out, arg ? arg : "");
  } else if (!strcmp(line, "mutflag")) {
    do_mutflag(out);
  } else if (!strcmp(line, "dropparent")) {
    do_dropparent(out, arg ? arg : "");
  } else if (!strcmp(line, "reenter")) {
    do_reenter(out);
  } else {
    buf_puts(out, " => unknown command");
  }
}

static uint8_t *in_data;
static uint32_t in_len;
static cm_buf row;
static _Alignas(8) uint8_t item[PARSE_RETURN_SIZE];

EXPORT(IFACE "parse") uint8_t *parse(uint8_t *data, uint32_t len, int32_t has_ts, int64_t ts) {
  (void)has_ts; (void)ts;
  in_data = data;
  in_len = len;
  const uint8_t *nl = memchr(data, '\n', len);
  if (!nl) return cm_incomplete();
  char *line = malloc(nl - data + 1);
  memcpy(line, data, nl - data);
  line[nl - data] = 0;
  row.n = 0;
  run(&row, line);
  free(line);
  put_line_item(item, 0, row.p, (uint32_t)row.n, (uint64_t)(nl - data) + 1);
  return cm_items(item, 1);
}

EXPORT("cabi_post_" IFACE "parse") void post_parse(uint8_t *r) {
  (void)r;
  cm_free(in_data, in_len);
  in_data = NULL;
}

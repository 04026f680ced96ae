// A chipmunk:parser/parse@0.1.0 plugin that probes its file-system sandbox, for chiphost's
// sandbox tests. Each input line is one command; each command gives one row with its result.
//
//   read P | write P TEXT | stat P | lstat P | readlink P | list P | mkdir P | rmdir P |
//   unlink P | symlink TARGET LINK | rename FROM TO | link FROM TO | tmp |
//   touch P (open read-only with O_CREAT) | trunc P (open read-only with O_TRUNC) |
//   hold P N (open P N times and keep the descriptors: how many opened) | release (close them)
//
// In arguments, a leading $T stands for the temporary directory (from the temp-directory
// import), $D for the first configured directory (`dir`) and $F for the first configured
// file (`file`). Rows read `CMD => ok [DETAIL]` or `CMD => err NAME`.
#include "chipmunk_abi.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define IFACE "chipmunk:parser/parser@0.1.0#"

static char *tmp_dir = "", *conf_dir = "", *conf_file = "";

EXPORT(IFACE "get-version") uint8_t *get_version(void) { return cm_version(0, 1, 0); }

static _Alignas(4) uint8_t schema[2 * SCHEMA_ITEM_SIZE];
EXPORT(IFACE "get-config-schemas") uint8_t *get_config_schemas(void) {
  put_schema(schema, "dir", "Directory", "A directory the probe may read", CV_DIRECTORIES);
  put_schema(schema + SCHEMA_ITEM_SIZE, "file", "File", "A file the probe may read", CV_FILES);
  AT(cm_ret, 0, uint8_t *) = schema;
  AT(cm_ret, 4, uint32_t) = 2;
  return cm_ret;
}

EXPORT(IFACE "get-render-options") uint8_t *get_render_options(void) {
  cm_ret[0] = 0; // none
  return cm_ret;
}

static char *dup_str(cm_str s) {
  char *p = malloc(s.len + 1);
  if (!p) abort();
  memcpy(p, s.ptr, s.len);
  p[s.len] = 0;
  return p;
}

// first_path returns the first path of a files/directories config item, or "".
static char *first_path(const uint8_t *it) {
  cm_str list = AT(it, 12, cm_str);
  return list.len ? dup_str(((const cm_str *)list.ptr)[0]) : "";
}

EXPORT(IFACE "init") uint8_t *init(int32_t level, uint8_t *items, uint32_t n) {
  cm_level = level;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t *it = items + i * CONFIG_ITEM_SIZE;
    if (str_eq(AT(it, 0, cm_str), "dir") && it[8] == CV_DIRECTORIES) conf_dir = first_path(it);
    if (str_eq(AT(it, 0, cm_str), "file") && it[8] == CV_FILES) conf_file = first_path(it);
  }
  free_config_items(items, n);
  _Alignas(4) uint8_t tr[12];
  cm_host_temp_dir(tr);
  if (!tr[0]) tmp_dir = dup_str(AT(tr, 4, cm_str));
  cm_ret[0] = 0;
  return cm_ret;
}

// expand replaces a leading $T, $D or $F of an argument.
static void expand(cm_buf *b, const char *arg) {
  b->n = 0;
  buf_puts(b, "");
  if (arg[0] == '$' && arg[1]) {
    const char *base = arg[1] == 'T' ? tmp_dir : arg[1] == 'D' ? conf_dir : arg[1] == 'F' ? conf_file : NULL;
    if (base) {
      buf_puts(b, base);
      arg += 2;
    }
  }
  buf_puts(b, arg);
}

static const struct { int num; const char *name; } errnames[] = {
  {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {EACCES, "EACCES"}, {ENOTCAPABLE, "ENOTCAPABLE"},
  {ELOOP, "ELOOP"}, {EXDEV, "EXDEV"}, {EROFS, "EROFS"}, {EISDIR, "EISDIR"}, {ENOTDIR, "ENOTDIR"},
  {EEXIST, "EEXIST"}, {EBADF, "EBADF"}, {EINVAL, "EINVAL"}, {ENOTEMPTY, "ENOTEMPTY"}, {ENOSYS, "ENOSYS"},
  {ENOTSUP, "ENOTSUP"}, {EIO, "EIO"},
};

static void put_result(cm_buf *out, int rc) {
  if (rc >= 0) {
    buf_puts(out, " => ok");
    return;
  }
  int e = errno;
  for (size_t i = 0; i < sizeof errnames / sizeof errnames[0]; i++)
    if (errnames[i].num == e) {
      buf_printf(out, " => err %s", errnames[i].name);
      return;
    }
  buf_printf(out, " => err errno%d", e);
}

// put_bytes appends up to 40 bytes of data, with non-printable bytes as '.'.
static void put_bytes(cm_buf *out, const char *p, ssize_t n) {
  buf_puts(out, " ");
  for (ssize_t i = 0; i < n && i < 40; i++) {
    char c = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.';
    buf_put(out, &c, 1);
  }
}

static int do_read(cm_buf *out, const char *p) {
  int fd = open(p, O_RDONLY);
  if (fd < 0) return -1;
  char data[64];
  ssize_t n = read(fd, data, sizeof data);
  int saved = errno;
  close(fd);
  errno = saved;
  if (n < 0) return -1;
  buf_puts(out, " => ok");
  put_bytes(out, data, n);
  return 1;
}

static int do_write(const char *p, const char *text) {
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  ssize_t n = write(fd, text, strlen(text));
  int saved = errno;
  close(fd);
  errno = saved;
  return n < 0 ? -1 : 0;
}

static int do_list(cm_buf *out, const char *p) {
  DIR *d = opendir(p);
  if (!d) return -1;
  buf_puts(out, " => ok");
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    buf_puts(out, " ");
    buf_puts(out, e->d_name);
  }
  closedir(d);
  return 1;
}

static int held[1 << 16];
static int nheld;

// do_hold opens p up to n times, keeping the descriptors; it stops at the first error.
static int do_hold(cm_buf *out, const char *p, int n) {
  int got = 0;
  for (; got < n && nheld < (int)(sizeof held / sizeof held[0]); got++) {
    int fd = open(p, O_RDONLY);
    if (fd < 0) break;
    held[nheld++] = fd;
  }
  buf_printf(out, " => %d opened", got);
  return got < n ? -1 : 1;
}

// run executes one command line into out (a row).
static void run(cm_buf *out, char *line) {
  buf_puts(out, line);
  char *argv[4] = {0};
  int argc = 0;
  for (char *tok = strtok(line, " "); tok && argc < 4; tok = strtok(NULL, " ")) argv[argc++] = tok;
  if (argc == 0) return;
  static cm_buf a, b;
  expand(&a, argc > 1 ? argv[1] : "");
  expand(&b, argc > 2 ? argv[2] : "");
  const char *cmd = argv[0];
  struct stat st;
  char target[256];
  int rc;
  errno = 0;
  if (!strcmp(cmd, "tmp")) {
    buf_puts(out, " => ok ");
    buf_puts(out, tmp_dir);
    return;
  } else if (!strcmp(cmd, "read")) {
    if (do_read(out, a.p) > 0) return;
    rc = -1;
  } else if (!strcmp(cmd, "list")) {
    if (do_list(out, a.p) > 0) return;
    rc = -1;
  } else if (!strcmp(cmd, "touch") || !strcmp(cmd, "trunc")) {
    rc = open(a.p, O_RDONLY | (cmd[1] == 'o' ? O_CREAT : O_TRUNC), 0644);
    if (rc >= 0) close(rc);
  } else if (!strcmp(cmd, "hold")) {
    if (do_hold(out, a.p, argc > 2 ? atoi(argv[2]) : 0) > 0) return;
    rc = -1;
  } else if (!strcmp(cmd, "release")) {
    int n = nheld;
    while (nheld > 0) close(held[--nheld]);
    buf_printf(out, " => ok %d closed", n);
    return;
  } else if (!strcmp(cmd, "write")) {
    rc = do_write(a.p, argc > 2 ? argv[2] : "");
  } else if (!strcmp(cmd, "stat") || !strcmp(cmd, "lstat")) {
    rc = cmd[0] == 's' ? stat(a.p, &st) : lstat(a.p, &st);
    if (rc == 0) {
      buf_printf(out, " => ok size=%lld", (long long)st.st_size);
      return;
    }
  } else if (!strcmp(cmd, "readlink")) {
    ssize_t n = readlink(a.p, target, sizeof target - 1);
    if (n >= 0) {
      buf_puts(out, " => ok ");
      buf_put(out, target, (size_t)n);
      return;
    }
    rc = -1;
  } else if (!strcmp(cmd, "mkdir")) {
    rc = mkdir(a.p, 0755);
  } else if (!strcmp(cmd, "rmdir")) {
    rc = rmdir(a.p);
  } else if (!strcmp(cmd, "unlink")) {
    rc = unlink(a.p);
  } else if (!strcmp(cmd, "symlink")) {
    rc = symlink(argc > 1 ? argv[1] : "", b.p); // the target is taken literally
  } else if (!strcmp(cmd, "rename")) {
    rc = rename(a.p, b.p);
  } else if (!strcmp(cmd, "link")) {
    rc = link(a.p, b.p);
  } else {
    buf_puts(out, " => unknown command");
    return;
  }
  put_result(out, rc);
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
  cm_str cmd = {(const char *)data, (uint32_t)(nl - data)};
  char *line = dup_str(cmd);
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

package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rs/zerolog"

	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

// syncBuffer is a log destination shared by the instance's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// escapeWorld is the host side of the sandbox tests: a configured
// directory with links planted in it, a secret outside it, and a
// configured file next to a sibling the plugin must not see.
type escapeWorld struct {
	base, conf, outside, otherTemp string
}

func newEscapeWorld(t *testing.T) escapeWorld {
	t.Helper()
	base := t.TempDir()
	w := escapeWorld{base: base, conf: filepath.Join(base, "conf"), outside: filepath.Join(base, "outside"), otherTemp: filepath.Join(base, "temp", "other-instance")}
	for _, d := range []string{w.conf, filepath.Join(w.conf, "sub"), w.outside, w.otherTemp} {
		must(t, os.MkdirAll(d, 0o755))
	}
	must(t, os.WriteFile(filepath.Join(w.outside, "secret.txt"), []byte("SECRET outside"), 0o600))
	must(t, os.WriteFile(filepath.Join(w.outside, "named.log"), []byte("named file"), 0o644))
	must(t, os.WriteFile(filepath.Join(w.otherTemp, "state"), []byte("SECRET other instance"), 0o600))
	must(t, os.WriteFile(filepath.Join(w.conf, "in.txt"), []byte("inside"), 0o644))
	// Links the host planted in the configured directory.
	must(t, os.Symlink("../outside", filepath.Join(w.conf, "planted-rel")))
	must(t, os.Symlink(w.outside, filepath.Join(w.conf, "planted-abs")))
	must(t, os.Symlink("chain2", filepath.Join(w.conf, "chain1")))
	must(t, os.Symlink("sub/../../outside/secret.txt", filepath.Join(w.conf, "chain2")))
	must(t, os.Symlink("/proc/self/environ", filepath.Join(w.conf, "environ")))
	must(t, os.Symlink("in.txt", filepath.Join(w.conf, "good")))
	must(t, syscall.Mkfifo(filepath.Join(w.conf, "fifo"), 0o644))
	must(t, os.Symlink("../in.txt", filepath.Join(w.conf, "sub", "up-good")))
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// probe runs the fs_probe plugin over commands, with the world's
// configured directory and file, and returns its rows, one per command,
// and the host log.
func probe(t *testing.T, w escapeWorld, commands []string) ([]string, string) {
	t.Helper()
	return probeWith(t, w, nil, []schema.Setting{
		{ID: "dir", Value: schema.Value{Type: schema.Directories, Paths: []string{w.conf}}},
		{ID: "file", Value: schema.Value{Type: schema.Files, Paths: []string{filepath.Join(w.outside, "named.log")}}},
	}, commands)
}

func probeWith(t *testing.T, w escapeWorld, opts *Options, config []schema.Setting, commands []string) ([]string, string) {
	t.Helper()
	pi, logs := newProbe(t, w, opts, config)
	var rows []string
	input := strings.Join(commands, "\n") + "\n"
	_, err := driver.Run(context.Background(), &driver.ReaderSource{R: strings.NewReader(input)}, pi, driver.SinkFunc(func(_ context.Context, rs []driver.Row) error {
		for _, r := range rs {
			rows = append(rows, strings.Clone(r.Item.Message.Line))
		}
		return nil
	}), nil)
	must(t, err)
	pi.Close()
	if len(rows) != len(commands) {
		t.Fatalf("%d rows for %d commands: %q", len(rows), len(commands), rows)
	}
	return rows, logs.String()
}

// newProbe starts an fs_probe instance whose host logs into the returned
// buffer; its temporary root is w.base/temp.
func newProbe(t *testing.T, w escapeWorld, opts *Options, config []schema.Setting) (*ParserInstance, *syncBuffer) {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	logger := zerolog.New(logs)
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Logger, o.TempRoot = &logger, filepath.Join(w.base, "temp")
	h := newTestHost(t, &o)
	p, err := h.Load(ctx, fixture(t, "hostile/fs_probe.wasm"))
	must(t, err)
	pi, err := p.NewParser(ctx, &InitOptions{Config: config})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	t.Cleanup(pi.Close)
	return pi, logs
}

// TestSandboxEscapes: a real plugin tries every way out of its sandbox
// through WASI (relative and absolute symlinks, chains, links the host
// planted, `..` in every argument, rename and link tricks, /proc/self).
// Each attempt fails with a WASI error, nothing outside changes, and the
// host log names what was refused.
func TestSandboxEscapes(t *testing.T) {
	w := newEscapeWorld(t)
	escapes := []string{
		// links the plugin makes in its own temporary directory
		"symlink ../../outside $T/up",
		"read $T/up/secret.txt",
		"symlink ../../../../../../../../etc $T/etc",
		"read $T/etc/passwd",
		"symlink /etc $T/abs",
		"read $T/abs/passwd",
		"mkdir $T/d",
		"symlink .. $T/d/parent",
		"rename $T/d/parent $T/moved",
		"read $T/moved/outside/secret.txt",
		"list $T/moved",
		"symlink ../../other-instance $T/d/other",
		"read $T/d/other/state",
		// `..` in every argument
		"read $T/../../outside/secret.txt",
		"read $T/../other-instance/state",
		"stat $T/../../outside/secret.txt",
		"list $T/..",
		"write $T/../escaped x",
		"mkdir $T/../escaped-dir",
		"symlink x $T/../escaped-link",
		"rename $T/d $T/../escaped-rename",
		"link $F $T/../escaped-hardlink",
		"readlink $D/../outside",
		"read $D/../outside/secret.txt",
		// links the host planted in the configured directory
		"read $D/planted-rel/secret.txt",
		"read $D/planted-abs/secret.txt",
		"list $D/planted-rel",
		"read $D/chain1",
		"read $D/environ",
		"read $D/fifo", // a named pipe without a writer: open(2) would block forever
		"symlink /\x1b]0;PWNED\x07\x1b[2J $T/ansi",
		// absolute paths outside every preopen
		"read /etc/passwd",
		"read /proc/self/environ",
		"read /proc/self/cwd/go.mod",
		"read " + filepath.Join(w.outside, "secret.txt"),
		"read " + filepath.Join(w.otherTemp, "state"),
		// the configured directory and file are read-only; siblings of the file are invisible
		"write $D/new.txt x",
		"touch $D/created",
		"trunc $D/in.txt",
		"mkdir $D/newdir",
		"unlink $D/in.txt",
		"rename $D/in.txt $D/renamed.txt",
		"symlink in.txt $D/newlink",
		"trunc $F",
		"read " + filepath.Join(w.outside, "secret.txt"),
		// hard links and renames across preopens
		"write $T/mine x",
		"link $D/in.txt $T/hard",
		"rename $T/mine $D/stolen",
		"link $F $T/hard-file",
		// a long path is refused and logged, cut
		"read $T/" + strings.Repeat("../", 20000) + "x",
	}
	legit := map[string]string{
		"write $T/mine x":             "",
		"mkdir $T/d":                  "",
		"symlink .. $T/d/parent":      "", // a link that stays inside may be made
		"rename $T/d/parent $T/moved": "",
	}
	rows, logs := probe(t, w, escapes)
	for i, row := range rows {
		cmd := escapes[i]
		_, ok := legit[cmd]
		switch {
		case ok && !strings.HasPrefix(row, cmd+" => ok"):
			t.Errorf("allowed operation failed: %s", row)
		case !ok && !strings.HasPrefix(row, cmd+" => err "):
			t.Errorf("escape not refused: %s", row)
		}
		if strings.Contains(row, "SECRET") {
			t.Errorf("secret leaked: %s", row)
		}
	}
	// Nothing appeared or changed outside the sandbox.
	for _, p := range []string{"temp/escaped", "temp/escaped-dir", "temp/escaped-link", "temp/escaped-rename", "temp/escaped-hardlink", "conf/new.txt", "conf/created", "conf/newdir", "conf/renamed.txt", "conf/newlink", "conf/stolen"} {
		if _, err := os.Lstat(filepath.Join(w.base, p)); err == nil {
			t.Errorf("%s was created outside the sandbox", p)
		}
	}
	if b, err := os.ReadFile(filepath.Join(w.conf, "in.txt")); err != nil || string(b) != "inside" {
		t.Errorf("configured file changed: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(w.outside, "named.log")); err != nil || string(b) != "named file" {
		t.Errorf("configured file changed: %q %v", b, err)
	}
	if strings.ContainsRune(logs, 0x1b) || strings.ContainsRune(logs, 0x07) {
		t.Errorf("a guest path put terminal control characters into the log")
	}
	for _, line := range strings.Split(logs, "\n") {
		if len(line) > 1024 {
			t.Errorf("log line of %d bytes: %.200s…", len(line), line)
		}
	}
	for _, want := range []string{
		`"op":"symlink","path":"up"`, "link target \\\"../../outside\\\" leaves the sandbox directory",
		"absolute link target",
		`"op":"open","path":"moved/outside/secret.txt"`,
		`"op":"open","path":"planted-rel/secret.txt"`,
		`"op":"open","path":"chain1"`,
		`"op":"open","path":"created"`, "the directory is read-only",
		`"op":"path_open","path":"../../outside/secret.txt"`, "the path climbs out of its directory",
		`"op":"path_create_directory","path":"../escaped-dir"`,
		`"op":"path_rename","path":"../escaped-rename"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("host log lacks %s:\n%s", want, logs)
		}
	}
}

// TestSandboxAllows: what the sandbox must keep working, with links that
// stay inside.
func TestSandboxAllows(t *testing.T) {
	w := newEscapeWorld(t)
	cmds := []string{
		"write $T/a.txt hello",
		"read $T/a.txt",
		"symlink a.txt $T/link",
		"read $T/link",
		"readlink $T/link",
		"mkdir $T/sub",
		"symlink ../a.txt $T/sub/up",
		"read $T/sub/up",
		"link $T/a.txt $T/hard",
		"read $T/hard",
		"rename $T/hard $T/sub/moved",
		"read $T/sub/moved",
		"unlink $T/sub/moved",
		"unlink $T/sub/up",
		"rmdir $T/sub",
		"read $D/in.txt",
		"read $D/good",
		"read $D/sub/up-good",
		"stat $D/in.txt",
		"lstat $D/good",
		"readlink $D/planted-rel",
		"read $F",
		"list $T",
	}
	rows, _ := probe(t, w, cmds)
	want := map[int]string{1: "hello", 3: "hello", 4: "a.txt", 7: "hello", 9: "hello", 11: "hello", 15: "inside", 16: "inside", 17: "inside", 18: "size=6", 20: "../outside", 21: "named file"}
	for i, row := range rows {
		if !strings.HasPrefix(row, cmds[i]+" => ok") {
			t.Errorf("failed: %s", row)
		} else if s, ok := want[i]; ok && !strings.Contains(row, s) {
			t.Errorf("%s: want %q", row, s)
		}
	}
	if last := rows[len(rows)-1]; !strings.Contains(last, " a.txt") || !strings.Contains(last, " link") || strings.Contains(last, " sub") {
		t.Errorf("listing: %s", last)
	}
}

// TestSandboxSpecialFiles: a named pipe given as the configured file is
// refused at open instead of blocking the host (a FIFO without a writer
// blocks open(2) forever, past every call deadline).
func TestSandboxSpecialFiles(t *testing.T) {
	w := newEscapeWorld(t)
	rows, logs := probeWith(t, w, nil, []schema.Setting{
		{ID: "file", Value: schema.Value{Type: schema.Files, Paths: []string{filepath.Join(w.conf, "fifo")}}},
	}, []string{"read $F"})
	if !strings.HasPrefix(rows[0], "read $F => err ") {
		t.Errorf("FIFO opened: %s", rows[0])
	}
	_ = logs
}

// TestSandboxHidesTempRoot: no mount reaches chiphost's temporary root,
// where other instances' scratch directories live. A configured directory
// that holds it is a config error; in Chipmunk-compatible mode a parent
// directory that holds it is replaced by the configured path itself.
func TestSandboxHidesTempRoot(t *testing.T) {
	w := newEscapeWorld(t)
	named := filepath.Join(w.base, "x.log")
	must(t, os.WriteFile(named, []byte("named"), 0o644))
	other := "read " + filepath.Join(w.otherTemp, "state")
	rows, logs := probeWith(t, w, &Options{ParentDirAccess: true}, []schema.Setting{
		{ID: "file", Value: schema.Value{Type: schema.Files, Paths: []string{named}}},
	}, []string{"read $F", other, "list " + w.base})
	if !strings.HasPrefix(rows[0], "read $F => ok named") {
		t.Errorf("configured file: %s", rows[0])
	}
	if !strings.Contains(rows[1], " => err ") {
		t.Errorf("temp root reachable in compat mode: %s", rows[1])
	}
	if rows[2] != "list "+w.base+" => ok x.log" {
		t.Errorf("the parent directory is visible in compat mode: %s", rows[2])
	}
	if !strings.Contains(logs, "granting only the configured path") {
		t.Errorf("no warning about the narrowed grant:\n%s", logs)
	}

	h := newTestHost(t, &Options{TempRoot: filepath.Join(w.base, "temp")})
	p, err := h.Load(context.Background(), fixture(t, "hostile/fs_probe.wasm"))
	must(t, err)
	_, err = p.NewParser(context.Background(), &InitOptions{Config: []schema.Setting{
		{ID: "dir", Value: schema.Value{Type: schema.Directories, Paths: []string{w.base}}},
	}})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindConfig || !strings.Contains(err.Error(), "holds chiphost's temporary directory") {
		t.Fatalf("a directory holding the temp root was accepted: %v", err)
	}
}

// TestSandboxRefusalLogIsBounded: a plugin that fails in a loop logs a
// bounded number of refusals, then one count when the instance closes.
func TestSandboxRefusalLogIsBounded(t *testing.T) {
	w := newEscapeWorld(t)
	cmds := make([]string, 500)
	for i := range cmds {
		cmds[i] = "read $T/../../outside/secret.txt"
	}
	_, logs := probe(t, w, cmds)
	if n := strings.Count(logs, "sandbox refused:"); n > 40 {
		t.Errorf("%d refusals logged one by one", n)
	}
	if !strings.Contains(logs, "sandbox refused 500 operations in all") {
		t.Errorf("no final count:\n%.2000s", logs)
	}
}

// TestSandboxFileInsideDirectory: a configured file inside a configured
// directory does not hide the rest of that directory (the file's mount
// used to shadow the directory's).
func TestSandboxFileInsideDirectory(t *testing.T) {
	w := newEscapeWorld(t)
	for _, file := range []string{filepath.Join(w.conf, "in.txt"), filepath.Join(w.conf, "sub", "b.log")} {
		must(t, os.WriteFile(filepath.Join(w.conf, "sub", "b.log"), []byte("sub file"), 0o644))
		rows, _ := probeWith(t, w, nil, []schema.Setting{
			{ID: "dir", Value: schema.Value{Type: schema.Directories, Paths: []string{w.conf}}},
			{ID: "file", Value: schema.Value{Type: schema.Files, Paths: []string{file}}},
		}, []string{"read $F", "read $D/sub/b.log", "read $D/good", "list $D/sub"})
		for _, r := range rows {
			if !strings.Contains(r, " => ok") {
				t.Errorf("file %s: %s", file, r)
			}
		}
	}
}

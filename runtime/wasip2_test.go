package runtime_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// probeP2 loads hostile/wasip2_probe.core.wasm, a parser whose main module
// imports WASI 0.2 functions directly (clocks, poll, streams, random, cli)
// and runs one command per input line (see its source,
// testdata/plugins/src/c/wasip2_probe.c).
func probeP2(t *testing.T, opts *Options) *Plugin {
	t.Helper()
	p, err := newTestHost(t, opts).Load(context.Background(), fixture(t, "hostile/wasip2_probe.core.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// probeRow runs one command and returns its row, or the call's error.
func probeRow(t *testing.T, pi *ParserInstance, cmd string) (string, error) {
	t.Helper()
	items, err := pi.Parse(context.Background(), []byte(cmd+"\n"), nil)
	if err != nil {
		return "", err
	}
	if len(items) != 1 || items[0].Message == nil {
		t.Fatalf("%s: %+v, want one row", cmd, items)
	}
	return items[0].Message.Line, nil
}

// TestWASIP2Host calls every served WASI 0.2 area through a real guest's
// own imports (several 0.2.x versions, matched to the 0.2 host): clocks and
// timer pollables, poll, random, wall clock, the environment (only the
// allowed variable), stdout into the log, stdin at its end, wasi:sockets
// linked but denied (access-denied for TCP, UDP and name lookup), and 2 × 65,536
// handles created and dropped (a second round fits the table only if the
// first one's drops freed it).
func TestWASIP2Host(t *testing.T) {
	t.Setenv("CHIPHOST_P2_ALLOWED", "a=b")
	t.Setenv("CHIPHOST_P2_HIDDEN", "secret")
	var mu sync.Mutex
	var logs []string
	p := probeP2(t, &Options{Env: []string{"CHIPHOST_P2_ALLOWED"}, OnLog: func(r LogRecord) {
		mu.Lock()
		defer mu.Unlock()
		if r.Source == FromStdout {
			logs = append(logs, r.Message)
		}
	}})
	pi, err := p.NewParser(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pi.Close()
	want := []struct{ cmd, row string }{
		{"clock", "clock => handle 1, ready 0 then 1, waited >= 1 ms: 1"},
		{"poll", "poll => ready 1"},
		{"random", "random => 16 bytes and a u64"},
		{"wall", "wall => after 2001: 1"},
		{"env", "env => 1: CHIPHOST_P2_ALLOWED=a=b"},
		{"stdout hello from wasi 0.2", "stdout => written: 1"},
		{"stdin", "stdin => closed"},
		{"sockets", "sockets => tcp denied 1, udp denied 1, lookup denied 1"},
		{"handles 65536", "handles => 65536 created and dropped"},
		{"handles 65536", "handles => 65536 created and dropped"},
	}
	for _, w := range want {
		row, err := probeRow(t, pi, w.cmd)
		if err != nil || row != w.row {
			t.Errorf("%s: %q, %v; want %q", w.cmd, row, err, w.row)
		}
	}
	pi.Close() // flushes the log writers
	mu.Lock()
	defer mu.Unlock()
	if len(logs) != 1 || logs[0] != "hello from wasi 0.2" {
		t.Errorf("stdout log records %q, want the one line written", logs)
	}
}

// TestWASIP2HandleMisuse: each misuse of a resource handle the canonical
// ABI traps on ends the call with an abi error naming it, and the plugin
// (the host) still works: a new instance runs the clock command.
func TestWASIP2HandleMisuse(t *testing.T) {
	p := probeP2(t, nil)
	cases := []struct{ cmd, msg string }{
		{"drop-twice", "[resource-drop]pollable: abi: self: pollable handle 1 is not in the table"},
		{"use-dropped", "[method]pollable.block: abi: self: pollable handle 1 is not in the table"},
		{"bogus", "pollable handle 12345 is not in the table (never given to the plugin, or already dropped)"},
		{"exhaust", "subscribe-duration: abi: result: handle table of pollable is full (65536 handles)"},
	}
	for _, c := range cases {
		t.Run(c.cmd, func(t *testing.T) {
			pi, err := p.NewParser(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer pi.Close()
			_, err = probeRow(t, pi, c.cmd)
			if KindOf(err) != KindABI || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("%s: %v; want an abi error containing %q", c.cmd, err, c.msg)
			}
			if _, err := probeRow(t, pi, "clock"); KindOf(err) != KindClosed {
				t.Errorf("call after the trap: %v, want closed", err)
			}
			again, err := p.NewParser(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer again.Close()
			if row, err := probeRow(t, again, "clock"); err != nil || !strings.HasPrefix(row, "clock => handle 1,") {
				t.Errorf("new instance after the trap: %q, %v", row, err)
			}
		})
	}
}

// TestWASIP2Exit: wasi:cli/exit.exit ends the instance with a trap whose
// cause is an *ExitError saying which status.
func TestWASIP2Exit(t *testing.T) {
	p := probeP2(t, nil)
	for _, c := range []struct {
		cmd    string
		failed bool
	}{{"exit-ok", false}, {"exit-err", true}} {
		pi, err := p.NewParser(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = probeRow(t, pi, c.cmd)
		var exit *ExitError
		if KindOf(err) != KindTrap || !errors.As(err, &exit) || exit.Failed != c.failed {
			t.Fatalf("%s: %v; want a trap caused by an ExitError (failed %v)", c.cmd, err, c.failed)
		}
		if _, err := probeRow(t, pi, "clock"); KindOf(err) != KindClosed {
			t.Errorf("%s: call after exit: %v, want closed", c.cmd, err)
		}
		pi.Close()
	}
}

// TestWASIP2SleepHonoursDeadline: a guest blocking on a 10-minute timer
// pollable is stopped by the 1 s call deadline (go test's timeout is the
// safety net; nothing here measures time).
func TestWASIP2SleepHonoursDeadline(t *testing.T) {
	p := probeP2(t, &Options{CallTimeout: time.Second})
	pi, err := p.NewParser(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pi.Close()
	if _, err := probeRow(t, pi, "sleep 600"); KindOf(err) != KindTimeout {
		t.Fatalf("sleep 600: %v, want a timeout", err)
	}
}

// TestWASIP2Filesystem: wasi:filesystem through the guest's own imports.
// The preopens are the instance's temporary directory (writable) and the
// configured directory (read-only), the same confined file systems as WASI
// preview 1: files are written, read back, listed and stat'ed; every way
// out (`..`, absolute paths, links the guest makes, chained links, links
// the host planted) fails with an error code, nothing outside is read or
// changed, and the host log says what was refused.
func TestWASIP2Filesystem(t *testing.T) {
	w := newEscapeWorld(t)
	logs := &syncBuffer{}
	logger := zerolog.New(logs)
	p := probeP2(t, &Options{Logger: &logger, TempRoot: filepath.Join(w.base, "temp")})
	pi, err := p.NewParser(context.Background(), &InitOptions{Config: []schema.Setting{
		{ID: "dir", Value: schema.Value{Type: schema.Directories, Paths: []string{w.conf}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer pi.Close()
	conf := func(name string) string { return filepath.Join(w.conf, name) }
	steps := []struct{ cmd, row string }{
		{"preopens", "preopens => 2, writable 1"},
		{"write x.txt hello file", "write => ok written 1"},
		{"read x.txt", "read => ok hello file"},
		{"list", "list => ok x.txt"},
		{"stat x.txt", "stat => ok regular-file size 10"},
		{"symlink x.txt good", "symlink => ok"},
		{"read good", "read => ok hello file"},
		{"read " + conf("in.txt"), "read => ok inside"},
		{"read " + conf("good"), "read => ok inside"},
		{"read " + conf("sub/up-good"), "read => ok inside"},
		// ways out
		{"read ../../outside/secret.txt", "read => err not-permitted"},
		{"read /etc/passwd", "read => err not-permitted"},
		{"write sub/../../escape.txt no", "write => err not-permitted"},
		{"symlink ../../outside up", "symlink => err not-permitted"},
		{"symlink . d", "symlink => ok"},
		{"symlink ../../.. d/d/d/x", "symlink => ok"},
		{"read d/d/d/x/outside/secret.txt", "read => err not-permitted"},
		{"read " + conf("planted-rel/secret.txt"), "read => err not-permitted"},
		{"read " + conf("planted-abs/secret.txt"), "read => err not-permitted"},
		{"read " + conf("chain1"), "read => err not-permitted"},
		{"read " + conf("fifo"), "read => err access"},
		// the configured directory is read-only
		{"write " + conf("new.txt") + " x", "write => err read-only"},
		{"write " + conf("in.txt") + " x", "write => err read-only"},
	}
	for _, s := range steps {
		row, err := probeRow(t, pi, s.cmd)
		if err != nil || row != s.row {
			t.Errorf("%s: %q, %v; want %q", s.cmd, row, err, s.row)
		}
	}
	if b, err := os.ReadFile(conf("in.txt")); err != nil || string(b) != "inside" {
		t.Errorf("configured file: %q, %v", b, err)
	}
	for _, f := range []string{conf("new.txt"), filepath.Join(w.base, "escape.txt"), filepath.Join(w.base, "temp", "escape.txt")} {
		if _, err := os.Lstat(f); err == nil {
			t.Errorf("%s was created", f)
		}
	}
	for _, want := range []string{`"path":"../../outside/secret.txt"`, "the path climbs out of its directory", "absolute path", "leaves the sandbox directory"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("host log lacks %q:\n%s", want, logs.String())
		}
	}
}

package rpc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// waitClosed waits for the final sessions/updated (state closed) of session.
func (c *client) waitClosed(session string, d time.Duration) protocol.SessionsUpdatedParams {
	c.t.Helper()
	var u protocol.SessionsUpdatedParams
	raw := c.waitNote(d, func(n note) bool {
		var p protocol.SessionsUpdatedParams
		return n.method == protocol.MethodSessionsUpdated && json.Unmarshal(n.params, &p) == nil && p.Session == session && p.State == protocol.StateClosed
	})
	json.Unmarshal(raw, &u)
	return u
}

// TestOpenFIFOWithoutWriter opens 20 sessions on named pipes nobody writes
// to (more than the 16 work slots), with the text parser and a plugin. Each
// open is answered at once (the session waits for a writer, as a session on
// stdin waits for data), so plugins/list and an ordinary open are answered
// and parse meanwhile; a writer that comes later is parsed to the end; a
// waiting session closes at once. Before the fix every open blocked in
// open(2), holding a work slot, and the first call timed out.
func TestOpenFIFOWithoutWriter(t *testing.T) {
	watchdog(t, 120*time.Second)
	// A root with string_parser only: listing compiles what it lists, and
	// the 12 MB JavaScript fixture takes over a minute to compile under
	// -race on a loaded machine, which says nothing about FIFOs.
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "parsers"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(plugins, "parsers", "string_parser"), filepath.Join(root, "parsers", "string_parser")); err != nil {
		t.Fatal(err)
	}
	c := start(t, startOpts{args: []string{"--plugins-dir", root}})
	c.initialize(nil)
	dir := t.TempDir()
	parsers := []protocol.ParserSpec{{Builtin: "text"}, {Plugin: "string_parser", Config: map[string]json.RawMessage{"lossy": json.RawMessage("true")}}}
	fifos := make([]string, 20)
	sessions := make([]string, 20)
	for i := range fifos {
		fifos[i] = filepath.Join(dir, fmt.Sprintf("fifo%d", i))
		if err := syscall.Mkfifo(fifos[i], 0o600); err != nil {
			t.Fatal(err)
		}
		var open protocol.SessionsOpenResult
		c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: fifos[i]}, Parser: parsers[i%2]}, &open)
		sessions[i] = open.Session
	}

	var list protocol.PluginsListResult
	c.mustCall(protocol.MethodPluginsList, nil, &list)
	if len(list.Plugins) == 0 {
		t.Fatal("plugins/list: no plugins")
	}
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: writeLines(t, 100)}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	if fin := c.waitFinal(open.Session, 60*time.Second); fin.State != protocol.StateDone || fin.Rows != 100 {
		t.Fatalf("ordinary session beside 20 waiting ones: %+v, want done with 100 rows", fin)
	}

	for _, i := range []int{0, 1} { // text, string_parser
		w, err := os.OpenFile(fifos[i], os.O_WRONLY, 0) // the server holds the read end: no wait
		if err != nil {
			t.Fatal(err)
		}
		w.WriteString("late one\nlate two\n")
		w.Close()
		fin := c.waitFinal(sessions[i], 60*time.Second)
		if fin.State != protocol.StateDone || fin.Rows != 2 || fin.Bytes != 18 {
			t.Fatalf("session %s after its writer came and went: %+v, want done with 2 rows of 18 bytes", sessions[i], fin)
		}
		var g grabbed
		c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: sessions[i], Count: 10}, &g)
		if len(g.Items) != 2 {
			t.Fatalf("grab %s: %v", sessions[i], g.Items)
		}
	}

	c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: sessions[2]}, nil)
	if fin := c.waitClosed(sessions[2], 30*time.Second); fin.Rows != 0 || fin.Bytes != 0 || fin.Error != nil {
		t.Fatalf("closed waiting session: %+v", fin)
	}
	for _, u := range c.updates(sessions[3]) {
		if u.State != protocol.StateRunning {
			t.Fatalf("session %s on a writer-less FIFO left state running: %+v", sessions[3], u)
		}
	}
	// The other sessions are still waiting: closing stdin must close them
	// and end the process (checked by start's cleanup).
}

// stderrText returns what the server has written to stderr so far.
func (c *client) stderrText() string {
	lw := c.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.String()
}

// sleeperSpec is hostile/sleeper.core.wasm sleeping in init and parse.
func sleeperSpec(initSeconds, parseSeconds int) protocol.ParserSpec {
	return protocol.ParserSpec{Plugin: filepath.Join(plugins, "hostile/sleeper.core.wasm"), Config: map[string]json.RawMessage{
		"init-seconds":  json.RawMessage(fmt.Sprint(initSeconds)),
		"parse-seconds": json.RawMessage(fmt.Sprint(parseSeconds)),
	}}
}

// waitLog waits for a window/logMessage containing text.
func (c *client) waitLog(text string, d time.Duration) {
	c.t.Helper()
	c.waitNote(d, func(n note) bool {
		var p protocol.LogMessageParams
		return n.method == protocol.MethodLogMessage && json.Unmarshal(n.params, &p) == nil && strings.Contains(p.Message, text)
	})
}

// TestSleepingPlugin: a plugin blocked in a 10-minute WASI sleep (in init,
// then in parse) is stopped by $/cancelRequest (-32800), by sessions/close
// (which no longer waits for the parse loop in vain) and by --call-timeout
// (the session fails with kind timeout). The plugin prints a line before it
// sleeps, which tells the test that the call is running.
func TestSleepingPlugin(t *testing.T) {
	watchdog(t, 120*time.Second)
	input := writeLines(t, 10)
	c := start(t, startOpts{args: []string{"--call-timeout", "10m"}})
	c.initialize(nil)

	t.Run("cancel open", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := callRaw(ctx, c, protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: sleeperSpec(600, 0)})
			errc <- err
		}()
		c.waitLog("sleeping 600 s in init", 30*time.Second)
		cancel() // sends $/cancelRequest
		if d := wireErr(t, <-errc, protocol.CodeRequestCancelled); d.Kind != "cancelled" {
			t.Fatalf("cancelled open: data %+v, want kind cancelled", d)
		}
	})

	t.Run("close", func(t *testing.T) {
		var open protocol.SessionsOpenResult
		c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: sleeperSpec(0, 600)}, &open)
		c.waitLog("sleeping 600 s in parse", 30*time.Second)
		c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: open.Session}, nil)
		c.waitClosed(open.Session, 30*time.Second)
		if strings.Contains(c.stderrText(), "did not stop in time") {
			t.Fatal("closing a sleeping session waited for its parse loop in vain")
		}
	})

	t.Run("timeout", func(t *testing.T) {
		c := start(t, startOpts{args: []string{"--call-timeout", "1s"}})
		c.initialize(nil)
		var open protocol.SessionsOpenResult
		c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: sleeperSpec(0, 600)}, &open)
		fin := c.waitFinal(open.Session, 60*time.Second)
		if fin.State != protocol.StateFailed || fin.Error == nil || fin.Error.Kind != "timeout" || fin.Error.Plugin != "sleeper.core" {
			t.Fatalf("session sleeping 600 s under --call-timeout 1s: %+v, want failed with kind timeout", fin)
		}
	})
}

// TestDescriptorLimit runs the server with 48 file descriptors (ulimit -n in
// a shell that then execs it) and opens sessions until they run out. Every
// refused open (built-in parser or plugin) gets the typed limit error
// (-31905, data {kind: "limit", code: "descriptors"}) without host paths,
// and leaves no session directory behind; closing a session makes room
// again. Before the fix the errors were -32603 naming a path in the temp
// directory, and every refused open left its directory until exit.
func TestDescriptorLimit(t *testing.T) {
	watchdog(t, 120*time.Second)
	c := start(t, startOpts{prefix: []string{"sh", "-c", `ulimit -n 48 && exec "$0" "$@"`}})
	c.initialize(nil)
	input := writeLines(t, 3)
	var open []string
	var refused error
	for len(open) < 100 && refused == nil {
		var res protocol.SessionsOpenResult
		if refused = c.call(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"}}, &res); refused == nil {
			open = append(open, res.Session)
		}
	}
	if len(open) == 0 || len(open) == 100 {
		t.Fatalf("%d sessions opened under ulimit -n 48, first refusal %v", len(open), refused)
	}
	sp := filepath.Join(plugins, "parsers/string_parser/string_parser.wasm")
	for i, parser := range []protocol.ParserSpec{{}, {Builtin: "text"}, {Plugin: sp}, {Plugin: sp}} {
		err := refused
		if i > 0 {
			err = c.call(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: parser}, nil)
		}
		d := wireErr(t, err, protocol.CodeLimitReached)
		if d.Kind != "limit" || d.Code != "descriptors" || !strings.Contains(d.Detail, "ulimit -n 48") || strings.Contains(err.Error(), c.tempDir) {
			t.Fatalf("open %d at the descriptor limit: %v, data %+v; want kind limit, code descriptors, no host path", i, err, d)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(c.tempDir, "chiphost-*", "*", "s[0-9]*"))
	if len(dirs) != len(open) {
		t.Fatalf("%d session directories for %d open sessions: refused opens left theirs", len(dirs), len(open))
	}
	for _, id := range open[:2] { // frees 4 descriptors; an open needs 3 while it reads
		c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: id}, nil)
	}
	var res protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"}}, &res)
	if fin := c.waitFinal(res.Session, 30*time.Second); fin.State != protocol.StateDone || fin.Rows != 3 {
		t.Fatalf("session opened after closing one: %+v", fin)
	}
}

// TestSessionAndMemoryLimits: with --max-sessions 3 a fourth open gets
// -31905 {kind: "limit", code: "sessions"} and closing a session makes room;
// with --max-total-memory 2 (MiB), a plugin that starts with 2.8 MiB (the Go
// fixture) gets -31905 {kind: "limit", code: "memory"} naming it.
func TestSessionAndMemoryLimits(t *testing.T) {
	watchdog(t, 120*time.Second)
	input := writeLines(t, 3)
	text := protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"}}

	c := start(t, startOpts{args: []string{"--max-sessions", "3"}})
	c.initialize(nil)
	var open []string
	for range 3 {
		var res protocol.SessionsOpenResult
		c.mustCall(protocol.MethodSessionsOpen, text, &res)
		open = append(open, res.Session)
	}
	err := c.call(protocol.MethodSessionsOpen, text, nil)
	if d := wireErr(t, err, protocol.CodeLimitReached); d.Kind != "limit" || d.Code != "sessions" || !strings.Contains(d.Detail, "3 sessions are open") {
		t.Fatalf("fourth open: %v, data %+v; want kind limit, code sessions", err, d)
	}
	c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: open[0]}, nil)
	var res protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, text, &res)
	if fin := c.waitFinal(res.Session, 30*time.Second); fin.State != protocol.StateDone || fin.Rows != 3 {
		t.Fatalf("session opened after closing one: %+v", fin)
	}

	m := start(t, startOpts{args: []string{"--max-total-memory", "2"}})
	m.initialize(nil)
	err = m.call(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Plugin: filepath.Join(plugins, "parsers/go_records/go_records.wasm")}}, nil)
	if d := wireErr(t, err, protocol.CodeLimitReached); d.Kind != "limit" || d.Code != "memory" || d.Plugin != "go_records" || !strings.Contains(d.Detail, "limit for all of them is 2 MiB") {
		t.Fatalf("open over the total memory: %v, data %+v; want kind limit, code memory, plugin go_records", err, d)
	}
	m.mustCall(protocol.MethodSessionsOpen, text, &res) // the built-in parser needs no guest memory
}

// TestMemoryGivenBack parses a 1 MB file in 20 string_parser sessions, then
// closes them: the server must return the memory to the operating system.
// Its log (--log-file on a named pipe the test reads, so that the test
// waits for an explicit signal) reports each release with the heap memory
// still held from the OS; the release after the last close must hold
// little. Before the fix nothing was released: the Go runtime kept the
// sessions' peak (over 1 GiB for 50 such sessions) for minutes, and closed
// sessions still referenced their plugin instances' buffers.
func TestMemoryGivenBack(t *testing.T) {
	watchdog(t, 180*time.Second)
	logs := filepath.Join(t.TempDir(), "log")
	if err := syscall.Mkfifo(logs, 0o600); err != nil {
		t.Fatal(err)
	}
	type release struct {
		Msg      string `json:"message"`
		Sessions int    `json:"sessions"`
		HeldMiB  uint64 `json:"heapHeldMiB"`
	}
	releases := make(chan release, 100)
	go func() {
		f, err := os.Open(logs) // waits for the server to open the write end
		if err != nil {
			return
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var r release
			if json.Unmarshal(sc.Bytes(), &r) == nil && r.Msg == "memory returned to the OS" {
				releases <- r
			}
		}
	}()
	c := start(t, startOpts{args: []string{"--log-file", logs}})
	c.initialize(nil)
	var b strings.Builder
	for i := 0; b.Len() < 1_000_000; i++ {
		fmt.Fprintf(&b, "line %d of a log with a few words in it\n", i)
	}
	input := filepath.Join(t.TempDir(), "input.log")
	os.WriteFile(input, []byte(b.String()), 0o644)
	parser := protocol.ParserSpec{Plugin: filepath.Join(plugins, "parsers/string_parser/string_parser.wasm"), Config: map[string]json.RawMessage{"lossy": json.RawMessage("true")}}
	var open []string
	for range 20 {
		var res protocol.SessionsOpenResult
		c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: parser}, &res)
		open = append(open, res.Session)
	}
	for _, id := range open {
		if fin := c.waitFinal(id, 120*time.Second); fin.State != protocol.StateDone || fin.Rows == 0 {
			t.Fatalf("session %s: %+v", id, fin)
		}
	}
	for _, id := range open {
		c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: id}, nil)
	}
	for r := range releases {
		t.Logf("release with %d sessions open: heap holds %d MiB", r.Sessions, r.HeldMiB)
		if r.Sessions > 0 {
			continue // a release while sessions were still open
		}
		if r.HeldMiB > 64 {
			t.Fatalf("after closing every session the heap still holds %d MiB from the OS", r.HeldMiB)
		}
		return
	}
}

// TestPluginConfigFIFO: a named pipe in a plugin's configuration is refused
// before init (-32602 naming the field): the plugin would open it through
// WASI, where an open that waits for a writer cannot be interrupted. Without
// the check the plugin got an opaque io error from its init ("Operation not
// permitted": the sandbox now refuses such files); before the sandbox did,
// the open hung in the plugin's init, holding a work slot.
func TestPluginConfigFIFO(t *testing.T) {
	watchdog(t, 120*time.Second)
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	c := start(t, startOpts{args: []string{"--call-timeout", "2s"}})
	c.initialize(nil)
	path, _ := json.Marshal([]string{fifo})
	err := c.call(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{
		Source: protocol.SourceSpec{Plugin: filepath.Join(plugins, "bytesources/file_source/file_source.wasm"), Config: map[string]json.RawMessage{"input-path": path}},
		Parser: protocol.ParserSpec{Builtin: "text"},
	}, nil)
	d := wireErr(t, err, protocol.CodeInvalidParams)
	if len(d.Errors) != 1 || d.Errors[0].Field != "input-path" || !strings.Contains(d.Errors[0].Message, "not a regular file") {
		t.Fatalf("open with a FIFO in the config: %v, data %+v; want a config error on input-path", err, d)
	}
}

package rpc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/protocol"
)

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// waitUpdate waits for a sessions/updated of session that matches pred.
func (c *client) waitUpdate(session string, pred func(protocol.SessionsUpdatedParams) bool) protocol.SessionsUpdatedParams {
	c.t.Helper()
	var u protocol.SessionsUpdatedParams
	raw := c.waitNote(30*time.Second, func(n note) bool {
		var p protocol.SessionsUpdatedParams
		return n.method == protocol.MethodSessionsUpdated && json.Unmarshal(n.params, &p) == nil && p.Session == session && pred(p)
	})
	json.Unmarshal(raw, &u)
	return u
}

// waitItems waits for the sessions/items of session that starts at start
// and returns its lines.
func (c *client) waitItems(session string, start uint64) []string {
	c.t.Helper()
	var p protocol.SessionsItemsParams
	raw := c.waitNote(30*time.Second, func(n note) bool {
		var p protocol.SessionsItemsParams
		return n.method == protocol.MethodSessionsItems && json.Unmarshal(n.params, &p) == nil && p.Session == session && p.Start == start
	})
	json.Unmarshal(raw, &p)
	return rowLines(p.Items)
}

func (c *client) grabLines(session string, start uint64) []string {
	c.t.Helper()
	var res protocol.SessionsGrabResult
	c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: session, Start: start, Count: 100}, &res)
	return rowLines(res.Items)
}

func rowLines(rows []protocol.Row) []string {
	var out []string
	for _, r := range rows {
		if r.Line != nil {
			out = append(out, *r.Line)
		}
	}
	return out
}

func sameLines(got []string, want ...string) bool {
	return strings.Join(got, "|") == strings.Join(want, "|")
}

// TestSessionFollowFile opens a followed session on a real file: it goes
// live with every line read so far stored (running before, never done),
// grab sees the rows so far, a stream delivers rows appended later, a
// partial line is not a row until its newline comes, and sessions/close
// ends it (the stream answers closed, the final update is closed). Without
// follow the session is done after the first two rows.
func TestSessionFollowFile(t *testing.T) {
	watchdog(t, 60*time.Second)
	path := filepath.Join(t.TempDir(), "app.log")
	appendTo(t, path, "a\nb\n")
	c := start(t, startOpts{})
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: path, Follow: true}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	sid := open.Session

	live := c.waitUpdate(sid, func(p protocol.SessionsUpdatedParams) bool { return p.State != protocol.StateRunning })
	if live.State != protocol.StateLive || live.Rows != 2 || live.Bytes != 4 {
		t.Fatalf("first update past running: %+v; want live with 2 rows of 4 bytes", live)
	}
	if got := c.grabLines(sid, 0); !sameLines(got, "a", "b") {
		t.Fatalf("grab: %q", got)
	}

	streamed := make(chan error, 1)
	var res protocol.SessionsStreamResult
	go func() {
		streamed <- c.call(protocol.MethodSessionsStream, protocol.SessionsStreamParams{Session: sid}, &res)
	}()
	if got := c.waitItems(sid, 0); !sameLines(got, "a", "b") {
		t.Fatalf("stream: first items %q", got)
	}

	appendTo(t, path, "c\n")
	if got := c.waitItems(sid, 2); !sameLines(got, "c") {
		t.Fatalf("stream: items after the append %q", got)
	}
	u := c.waitUpdate(sid, func(p protocol.SessionsUpdatedParams) bool { return p.Rows == 3 })
	if u.State != protocol.StateLive {
		t.Fatalf("update after the append: %+v", u)
	}

	// A partial line is read (bytes grow) but is no row yet.
	appendTo(t, path, "par")
	c.waitUpdate(sid, func(p protocol.SessionsUpdatedParams) bool { return p.Bytes == 9 })
	if got := c.grabLines(sid, 0); !sameLines(got, "a", "b", "c") {
		t.Fatalf("grab with a partial line read: %q", got)
	}
	appendTo(t, path, "tial\n")
	if got := c.waitItems(sid, 3); !sameLines(got, "partial") {
		t.Fatalf("stream: items after the newline %q", got)
	}
	if got := c.grabLines(sid, 3); !sameLines(got, "partial") {
		t.Fatalf("grab: %q", got)
	}

	c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: sid}, nil)
	if err := <-streamed; err != nil || res.State != protocol.StateClosed || res.Rows != 4 {
		t.Fatalf("stream answered %v, %+v; want closed after 4 rows", err, res)
	}
	final := c.waitUpdate(sid, func(p protocol.SessionsUpdatedParams) bool { return p.State == protocol.StateClosed })
	if final.Rows != 4 {
		t.Fatalf("final update %+v", final)
	}
	for _, u := range c.updates(sid) {
		if u.State == protocol.StateDone || u.State == protocol.StateFailed {
			t.Fatalf("a followed session reported %+v", u)
		}
	}
}

// TestSessionFollowPlugin follows a byte-source plugin (the committed
// file_source fixture) on a growing file: its empty reads at the end of
// the file make the session live instead of done, and a line appended
// later becomes a row.
func TestSessionFollowPlugin(t *testing.T) {
	watchdog(t, 60*time.Second)
	path := filepath.Join(t.TempDir(), "app.log")
	appendTo(t, path, "first\n")
	c := start(t, startOpts{})
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{
		Source: protocol.SourceSpec{Plugin: filepath.Join(plugins, "bytesources/file_source/file_source.wasm"), Follow: true,
			Config: map[string]json.RawMessage{"input-path": json.RawMessage(`["` + path + `"]`)}},
		Parser: protocol.ParserSpec{Builtin: "text"},
	}, &open)
	sid := open.Session
	live := c.waitUpdate(sid, func(p protocol.SessionsUpdatedParams) bool { return p.State != protocol.StateRunning })
	if live.State != protocol.StateLive || live.Rows != 1 {
		t.Fatalf("first update past running: %+v; want live with 1 row", live)
	}
	appendTo(t, path, "second\n")
	c.waitUpdate(sid, func(p protocol.SessionsUpdatedParams) bool { return p.Rows == 2 })
	if got := c.grabLines(sid, 0); !sameLines(got, "first", "second") {
		t.Fatalf("grab: %q", got)
	}
	c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: sid}, nil)
	c.waitUpdate(sid, func(p protocol.SessionsUpdatedParams) bool { return p.State == protocol.StateClosed && p.Rows == 2 })
}

// TestSessionFollowRefused: follow with stdin, or with a file that is not a
// regular file, is -32602 naming the field.
func TestSessionFollowRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	c, _ := startWithInput(t)
	c.initialize(nil)
	for _, src := range []protocol.SourceSpec{{Stdin: true, Follow: true}, {File: fifo, Follow: true}} {
		err := c.call(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: src, Parser: protocol.ParserSpec{Builtin: "text"}}, nil)
		wireErr(t, err, jsonrpc2.InvalidParams)
		if !strings.Contains(err.Error(), "source.follow:") {
			t.Fatalf("%+v: %v", src, err)
		}
	}
}

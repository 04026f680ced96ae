package rpc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// waitClosed waits for the final sessions/updated (state closed) of session.
func (c *client) waitClosed(session string, d time.Duration) SessionsUpdatedParams {
	c.t.Helper()
	var u SessionsUpdatedParams
	raw := c.waitNote(d, func(n note) bool {
		var p SessionsUpdatedParams
		return n.method == MethodSessionsUpdated && json.Unmarshal(n.params, &p) == nil && p.Session == session && p.State == StateClosed
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
	c := start(t, startOpts{args: []string{"--plugins-dir", plugins}})
	c.initialize(nil)
	dir := t.TempDir()
	parsers := []ParserSpec{{Builtin: "text"}, {Plugin: "string_parser", Config: map[string]json.RawMessage{"lossy": json.RawMessage("true")}}}
	fifos := make([]string, 20)
	sessions := make([]string, 20)
	for i := range fifos {
		fifos[i] = filepath.Join(dir, fmt.Sprintf("fifo%d", i))
		if err := syscall.Mkfifo(fifos[i], 0o600); err != nil {
			t.Fatal(err)
		}
		var open SessionsOpenResult
		c.mustCall(MethodSessionsOpen, SessionsOpenParams{Source: SourceSpec{File: fifos[i]}, Parser: parsers[i%2]}, &open)
		sessions[i] = open.Session
	}

	var list PluginsListResult
	c.mustCall(MethodPluginsList, nil, &list)
	if len(list.Plugins) == 0 {
		t.Fatal("plugins/list: no plugins")
	}
	var open SessionsOpenResult
	c.mustCall(MethodSessionsOpen, SessionsOpenParams{Source: SourceSpec{File: writeLines(t, 100)}, Parser: ParserSpec{Builtin: "text"}}, &open)
	if fin := c.waitFinal(open.Session, 60*time.Second); fin.State != StateDone || fin.Rows != 100 {
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
		if fin.State != StateDone || fin.Rows != 2 || fin.Bytes != 18 {
			t.Fatalf("session %s after its writer came and went: %+v, want done with 2 rows of 18 bytes", sessions[i], fin)
		}
		var g grabbed
		c.mustCall(MethodSessionsGrab, SessionsGrabParams{Session: sessions[i], Count: 10}, &g)
		if len(g.Items) != 2 {
			t.Fatalf("grab %s: %v", sessions[i], g.Items)
		}
	}

	c.mustCall(MethodSessionsClose, SessionsCloseParams{Session: sessions[2]}, nil)
	if fin := c.waitClosed(sessions[2], 30*time.Second); fin.Rows != 0 || fin.Bytes != 0 || fin.Error != nil {
		t.Fatalf("closed waiting session: %+v", fin)
	}
	for _, u := range c.updates(sessions[3]) {
		if u.State != StateRunning {
			t.Fatalf("session %s on a writer-less FIFO left state running: %+v", sessions[3], u)
		}
	}
	// The other sessions are still waiting: closing stdin must close them
	// and end the process (checked by start's cleanup).
}

package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/internal/testutil"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestStreamCredits streams 50k rows to a slow reader that grants 1000
// rows at a time, and checks that the server never sends more rows than
// granted, that rows arrive in order and complete, and that frames stay
// under MaxOutFrame.
func TestStreamCredits(t *testing.T) {
	for _, framing := range framings {
		t.Run(framing, func(t *testing.T) {
			watchdog(t, 120*time.Second)
			const n, window = 50_000, 1000
			input := writeLines(t, n)
			var (
				granted  atomic.Uint64
				received atomic.Uint64
				over     atomic.Bool
				disorder atomic.Bool
				bigFrame atomic.Bool
				c        *client
				mu       sync.Mutex
			)
			grant := make(chan struct{}, 100)
			c = start(t, startOpts{framing: framing})
			c.onNote = func(method string, params json.RawMessage) {
				if method != protocol.MethodSessionsItems {
					return
				}
				if len(params) > protocol.MaxOutFrame {
					bigFrame.Store(true)
				}
				var p struct {
					Start uint64            `json:"start"`
					Items []json.RawMessage `json:"items"`
				}
				if json.Unmarshal(params, &p) != nil {
					return
				}
				mu.Lock()
				if p.Start != received.Load() {
					disorder.Store(true)
				}
				got := received.Add(uint64(len(p.Items)))
				mu.Unlock()
				if got > granted.Load() {
					over.Store(true)
				}
				// Credits come back only once a whole window has arrived, so the
				// server must wait for them at every window, whatever the speeds.
				if got%window == 0 {
					grant <- struct{}{}
				}
			}
			c.initialize(nil)
			var open protocol.SessionsOpenResult
			c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
			go func() {
				for range grant {
					granted.Add(window)
					c.conn.Notify(context.Background(), protocol.MethodSessionsCredit, protocol.SessionsCreditParams{Session: open.Session, Credits: protocol.Credits{Rows: window}})
				}
			}()
			granted.Store(window)
			var res protocol.SessionsStreamResult
			c.mustCall(protocol.MethodSessionsStream, protocol.SessionsStreamParams{Session: open.Session, Credits: protocol.StreamWindow(window)}, &res)
			close(grant)
			if over.Load() {
				t.Errorf("server sent more rows than granted")
			}
			if disorder.Load() || bigFrame.Load() {
				t.Errorf("rows out of order (%v) or frame over %d bytes (%v)", disorder.Load(), protocol.MaxOutFrame, bigFrame.Load())
			}
			if res.Rows != n || res.Next != n || res.State != protocol.StateDone || received.Load() != n {
				t.Errorf("result %+v, received %d, want %d rows done", res, received.Load(), n)
			}
		})
	}
}

// TestStreamCancel cancels a stream that waits for credits, and a
// sessions/open stuck in a plugin's init (hostile init-loop), with
// $/cancelRequest: both answer -32800, and the server stays usable.
//
// The cancellation is sent only once the request is known to be running: a
// request is registered for cancellation before the server reads the next
// message (its handler runs on the read loop until it goes asynchronous), so
// a stream is running once its frame is in the pipe; the init loop
// announces itself with a "looping" log.
func TestStreamCancel(t *testing.T) {
	watchdog(t, 60*time.Second)
	input := writeLines(t, 10_000)
	c := start(t, startOpts{args: []string{"--call-timeout", "0"}})
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	streamSent := make(chan struct{}, 1)
	onWrite := func(b []byte) {
		if bytes.Contains(b, []byte(protocol.MethodSessionsStream)) {
			select {
			case streamSent <- struct{}{}:
			default:
			}
		}
	}
	c.onWrite.Store(&onWrite)

	cases := []struct {
		name    string
		method  string
		params  any
		running func() // returns once the request is running
	}{
		{"stream without credits", protocol.MethodSessionsStream, protocol.SessionsStreamParams{Session: open.Session, Credits: protocol.StreamWindow(0)},
			func() { testutil.Await(t, streamSent, "the sessions/stream frame to be written") }},
		{"open stuck in init", protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input},
			Parser: protocol.ParserSpec{Plugin: filepath.Join(plugins, "hostile/hostile.wasm"), Config: map[string]json.RawMessage{"mode": json.RawMessage(`"init-loop"`)}}},
			func() { c.waitNote(30*time.Second, isLooping("")) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			type answer struct {
				id  jsonrpc2.ID
				err error
			}
			answers := make(chan answer, 1)
			go func() {
				id, err := callRaw(ctx, c, tc.method, tc.params)
				answers <- answer{id, err}
			}()
			tc.running()
			cancel() // sends $/cancelRequest (see callRaw)
			a := testutil.Await(t, answers, "the answer to the cancelled request")
			wireErr(t, a.err, protocol.CodeRequestCancelled)
		})
	}
	// The file session may still be parsing: grab once it has finished.
	if u := c.waitFinal(open.Session, 60*time.Second); u.State != protocol.StateDone {
		t.Fatalf("session after cancellation: %+v", u)
	}
	var g grabbed
	c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: open.Session, Count: 1}, &g)
	if len(g.Items) != 1 {
		t.Errorf("server unusable after cancellation: %+v", g)
	}
}

// isLooping matches the window/logMessage with which a hostile instance
// announces its endless loop (of the given session; "" for any).
func isLooping(session string) func(note) bool {
	return func(n note) bool {
		var p protocol.LogMessageParams
		return n.method == protocol.MethodLogMessage && json.Unmarshal(n.params, &p) == nil &&
			p.Plugin == "hostile" && p.Message == "looping" && (session == "" || p.Session == session)
	}
}

// callRaw sends a request with a fixed id; when ctx is cancelled it sends
// $/cancelRequest for it and keeps waiting for the server's answer.
func callRaw(ctx context.Context, c *client, method string, params any) (jsonrpc2.ID, error) {
	var err error
	var id jsonrpc2.ID
	waitCtx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	done := make(chan struct{})
	c.calls.Add(1)
	go func() {
		defer close(done)
		id, err = c.conn.Call(waitCtx, method, params, nil)
	}()
	select {
	case <-done:
		return id, err
	case <-ctx.Done():
	}
	// jsonrpc2 numbers outgoing calls from 1; find ours as the latest one.
	// The client made no other call meanwhile, so the id is known from the
	// count of calls so far.
	c.notify(protocol.MethodCancelRequest, protocol.CancelParams{ID: lastID(c)})
	<-done
	return id, err
}

// lastID returns the id of the client's most recent call: the library
// numbers calls 1, 2, 3… and the tests count them.
func lastID(c *client) int64 { return c.calls.Load() }

// TestHostile runs, in one server without call deadlines, a trapping
// plugin, an endless loop and healthy sessions. While the loop spins (it
// announced its loop with a log line), the server keeps serving:
// plugins/list, a new string_parser session that parses its whole file, and
// grabs all complete, and the loop is still running afterwards, which
// proves that the guest does not stall the process (the runtime's interrupt
// checks yield to Go, so the garbage collector can stop it). Closing the
// loop's session stops it; the trap fails with kind trap, and the healthy
// sessions are done.
func TestHostile(t *testing.T) {
	watchdog(t, 90*time.Second)
	const n = 20_000
	input := writeLines(t, n)
	stringParser := protocol.ParserSpec{Plugin: filepath.Join(plugins, "parsers/string_parser/string_parser.wasm")}
	c := start(t, startOpts{args: []string{"--call-timeout", "0"}})
	c.initialize(nil)
	openSession := func(p protocol.ParserSpec) string {
		t.Helper()
		var open protocol.SessionsOpenResult
		c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: p}, &open)
		return open.Session
	}
	healthy := openSession(protocol.ParserSpec{Builtin: "text"})
	trap := openSession(hostileSpec("trap"))
	loop := openSession(hostileSpec("loop"))
	c.waitNote(30*time.Second, isLooping(loop))

	// Work done while the guest spins.
	var list protocol.PluginsListResult
	c.mustCall(protocol.MethodPluginsList, nil, &list)
	second := openSession(stringParser)
	if fin := c.waitFinal(second, 30*time.Second); fin.State != protocol.StateDone || fin.Rows < n {
		t.Errorf("string_parser beside the loop: final %+v, want done with >= %d rows", fin, n)
	}
	for _, sess := range []string{healthy, second} {
		var g grabbed
		c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: sess, Start: n / 2, Count: 100}, &g)
		if len(g.Items) != 100 || g.Items[0].Index != n/2 {
			t.Errorf("grab %s beside the loop: %d items, first %v", sess, len(g.Items), g.Items)
		}
	}
	for _, u := range c.updates(loop) {
		if u.State != protocol.StateRunning {
			t.Fatalf("the loop session ended (%+v), with no deadline and before it was closed", u)
		}
	}

	c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: loop}, nil)
	c.waitNote(30*time.Second, func(m note) bool {
		var p protocol.SessionsUpdatedParams
		return m.method == protocol.MethodSessionsUpdated && json.Unmarshal(m.params, &p) == nil && p.Session == loop && p.State == protocol.StateClosed
	})
	want := []struct {
		session, state, kind string
	}{
		{trap, protocol.StateFailed, "trap"},
		{healthy, protocol.StateDone, ""},
	}
	for _, w := range want {
		fin := c.waitFinal(w.session, 60*time.Second)
		kind := ""
		if fin.Error != nil {
			kind = fin.Error.Kind
			if fin.Error.Plugin != "hostile" || fin.Error.Detail == "" {
				t.Errorf("%s: error without plugin or detail: %+v", w.session, fin.Error)
			}
		}
		if fin.State != w.state || kind != w.kind {
			t.Errorf("%s: final %+v, want state %s kind %q", w.session, fin, w.state, w.kind)
		}
	}
}

// TestHostileTimeout: under --call-timeout, a session whose parser loops
// fails with kind timeout naming the plugin, and not before its deadline
// (counted from before sessions/open was sent, which precedes the parse
// call's start, so the bound holds however loaded the machine is).
func TestHostileTimeout(t *testing.T) {
	watchdog(t, 60*time.Second)
	const timeout = time.Second
	input := writeLines(t, 10)
	c := start(t, startOpts{args: []string{"--call-timeout", timeout.String()}})
	c.initialize(nil)
	sent := time.Now()
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: hostileSpec("loop")}, &open)
	fin := c.waitFinal(open.Session, 30*time.Second)
	if fin.State != protocol.StateFailed || fin.Error == nil || fin.Error.Kind != "timeout" || fin.Error.Plugin != "hostile" {
		t.Fatalf("final %+v (error %+v), want failed with kind timeout from plugin hostile", fin, fin.Error)
	}
	if d := time.Since(sent); d < timeout {
		t.Errorf("the loop failed %v after sessions/open was sent, before its %v deadline", d, timeout)
	}
}

// hostileSpec is the hostile test plugin in the given mode.
func hostileSpec(mode string) protocol.ParserSpec {
	return protocol.ParserSpec{Plugin: filepath.Join(plugins, "hostile/hostile.wasm"), Config: map[string]json.RawMessage{"mode": json.RawMessage(`"` + mode + `"`)}}
}

// TestAbruptExit kills the client's ends of the pipes while a session is
// open: the server exits, and leaves no session files behind.
func TestAbruptExit(t *testing.T) {
	watchdog(t, 60*time.Second)
	input := writeLines(t, 100_000)
	c := start(t, startOpts{})
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Plugin: filepath.Join(plugins, "parsers/string_parser/string_parser.wasm")}}, &open)
	entries, _ := os.ReadDir(c.tempDir)
	if len(entries) == 0 {
		t.Fatalf("no session directory in %s while a session is open", c.tempDir)
	}
	c.stdout.Close()
	c.stdin.Close()
	code := c.waitExit(15 * time.Second)
	entries, _ = os.ReadDir(c.tempDir)
	if len(entries) != 0 {
		t.Errorf("leftover files after exit: %v", entries)
	}
	if code != 0 {
		t.Logf("exit status %d after the client vanished", code)
	}
}

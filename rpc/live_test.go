package rpc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// updates returns the sessions/updated notifications received so far for
// session, in order.
func (c *client) updates(session string) []protocol.SessionsUpdatedParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []protocol.SessionsUpdatedParams
	for _, n := range c.notes {
		var p protocol.SessionsUpdatedParams
		if n.method == protocol.MethodSessionsUpdated && json.Unmarshal(n.params, &p) == nil && p.Session == session {
			out = append(out, p)
		}
	}
	return out
}

// TestLiveParseErrors feeds string_parser (lossy=false) through --input-fd:
// first lines with invalid UTF-8, then, only after a sessions/updated in
// state running has reported parseErrors > 0 and skippedBytes > 0, more
// lines and EOF. So the counters are proven live (not filled in at the
// end), and the series of updates is checked to be monotonic up to the final
// one, whose counts are the driver's.
func TestLiveParseErrors(t *testing.T) {
	watchdog(t, 60*time.Second)
	c, w := startWithInput(t)
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{
		Source: protocol.SourceSpec{Stdin: true},
		Parser: protocol.ParserSpec{Plugin: filepath.Join(plugins, "parsers/string_parser/string_parser.wasm"),
			Config: map[string]json.RawMessage{"lossy": json.RawMessage(`false`)}},
	}, &open)

	// The driver parses what a read returned, then reads again: with a
	// pipe, each write lets it take one more step past the bad bytes (a
	// parse error drops one byte). Write short good lines, the next one once
	// an update shows that the server has read everything written so far,
	// until a running update shows the errors.
	first := "one\ntwo\nbad\xff line\n"
	if _, err := w.WriteString(first); err != nil {
		t.Fatal(err)
	}
	written := uint64(len(first))
	isLive := func(p protocol.SessionsUpdatedParams) bool {
		return p.State == protocol.StateRunning && p.ParseErrors > 0
	}
	var live protocol.SessionsUpdatedParams
	for i := 0; !isLive(live); i++ {
		raw := c.waitNote(30*time.Second, func(n note) bool {
			var p protocol.SessionsUpdatedParams
			return n.method == protocol.MethodSessionsUpdated && json.Unmarshal(n.params, &p) == nil &&
				p.Session == open.Session && (isLive(p) || p.Bytes >= written)
		})
		json.Unmarshal(raw, &live)
		if isLive(live) {
			break
		}
		if live.State != protocol.StateRunning {
			t.Fatalf("session ended before a running update showed parse errors: %+v", c.updates(open.Session))
		}
		line := fmt.Sprintf("ok %d\n", i)
		if _, err := w.WriteString(line); err != nil {
			t.Fatal(err)
		}
		written += uint64(len(line))
	}
	if live.SkippedBytes < live.ParseErrors {
		t.Errorf("running update %+v: each parse error drops a byte, want skippedBytes >= parseErrors", live)
	}
	if _, err := w.WriteString("four\n\xfe\xfe\nfive\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	fin := c.waitFinal(open.Session, 30*time.Second)
	if fin.State != protocol.StateDone || fin.ParseErrors <= live.ParseErrors || fin.SkippedBytes <= live.SkippedBytes || fin.Rows <= live.Rows {
		t.Errorf("final %+v after running %+v: want done with more errors, skipped bytes and rows", fin, live)
	}
	ups := c.updates(open.Session)
	for i := 1; i < len(ups); i++ {
		a, b := ups[i-1], ups[i]
		if b.Rows < a.Rows || b.Bytes < a.Bytes || b.ParseErrors < a.ParseErrors || b.SkippedBytes < a.SkippedBytes {
			t.Errorf("update %d %+v goes back from %+v", i, b, a)
		}
	}
}

// TestAnswersAtExit sends, in one write, requests that are still running
// when the client says goodbye (a sessions/open stuck in a plugin's init
// loop, sessions/open of healthy plugins, plugins/list), then shutdown and
// exit, or instead closes stdin. Every request id must get exactly one
// response before the process exits, the stuck one -32800.
func TestAnswersAtExit(t *testing.T) {
	input := writeLines(t, 50_000)
	sp := filepath.Join(plugins, "parsers/string_parser/string_parser.wasm")
	hostile := filepath.Join(plugins, "hostile/hostile.wasm")
	req := func(id int, method string, params any) string {
		b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
		return frame("header", string(b))
	}
	open := func(parser protocol.ParserSpec) protocol.SessionsOpenParams {
		return protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: parser}
	}
	const stuck = 2
	exit := frame("header", `{"jsonrpc":"2.0","method":"exit"}`)
	cases := []struct {
		name    string
		bye     string // goodbye frames sent after the requests
		closeIn bool   // then close stdin
		want    int    // exit status
	}{
		{"shutdown and exit", req(20, protocol.MethodShutdown, nil) + exit, false, 0},
		{"exit without shutdown", exit, false, 1},
		{"stdin closed", "", true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			watchdog(t, 60*time.Second)
			c := start(t, startOpts{raw: true, args: []string{"--call-timeout", "30s", "--eof-grace", "500ms"}})
			var batch strings.Builder
			batch.WriteString(req(1, protocol.MethodInitialize, protocol.InitializeParams{}))
			batch.WriteString(req(stuck, protocol.MethodSessionsOpen, open(protocol.ParserSpec{Plugin: hostile, Config: map[string]json.RawMessage{"mode": json.RawMessage(`"init-loop"`)}})))
			ids := []int{1, stuck}
			for i := 3; i < 9; i++ {
				switch i % 3 {
				case 0:
					batch.WriteString(req(i, protocol.MethodPluginsList, nil))
				case 1:
					batch.WriteString(req(i, protocol.MethodSessionsOpen, open(protocol.ParserSpec{Plugin: sp})))
				default:
					batch.WriteString(req(i, protocol.MethodSessionsOpen, open(protocol.ParserSpec{Builtin: "text"})))
				}
				ids = append(ids, i)
			}
			if strings.Contains(tc.bye, `"id":20`) {
				ids = append(ids, 20)
			}
			batch.WriteString(tc.bye)
			got := map[float64][]map[string]any{}
			done := make(chan struct{})
			go func() {
				defer close(done)
				br := bufio.NewReader(c.stdout)
				for {
					m, err := readAnyFrame(br)
					if err != nil {
						return
					}
					if id, ok := m["id"].(float64); ok {
						got[id] = append(got[id], m)
					}
				}
			}()
			if _, err := io.WriteString(c.stdin, batch.String()); err != nil {
				t.Fatal(err)
			}
			if tc.closeIn {
				c.stdin.Close()
			}
			if code := c.waitExit(30 * time.Second); code != tc.want {
				t.Errorf("exit status %d, want %d", code, tc.want)
			}
			<-done
			for _, id := range ids {
				rs := got[float64(id)]
				if len(rs) != 1 {
					t.Errorf("request %d: %d responses, want exactly 1: %v", id, len(rs), rs)
					continue
				}
				e, _ := rs[0]["error"].(map[string]any)
				if id == stuck && (e == nil || e["code"] != float64(protocol.CodeRequestCancelled)) {
					t.Errorf("request %d (stuck in init): want -32800, got %v", id, rs[0])
				}
				if e != nil && e["code"] != float64(protocol.CodeRequestCancelled) {
					t.Errorf("request %d: unexpected error %v", id, e)
				}
			}
			if len(got) != len(ids) {
				t.Errorf("responses for %d ids, want %d: %v", len(got), len(ids), got)
			}
			entries, _ := os.ReadDir(c.tempDir)
			if len(entries) != 0 {
				t.Errorf("leftover files after exit: %v", entries)
			}
		})
	}
}

// readAnyFrame reads one header frame, returning an error at EOF.
func readAnyFrame(r *bufio.Reader) (map[string]any, error) {
	n := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			n, _ = strconv.Atoi(v)
		}
	}
	if n < 0 {
		return nil, fmt.Errorf("frame without Content-Length")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(body, &m)
}

// TestOpenProgress sends sessions/open with a workDoneToken: $/progress
// begin and end arrive, in that order and both before the response (end
// means the session is open), for a plugin parser with a string token; a
// failing open with an integer token ends its progress with the failure.
// Reports that a plugin is being compiled (when this test is the first to
// load string_parser into the run's cache) are left out: TestCompileProgress
// checks them.
func TestOpenProgress(t *testing.T) {
	watchdog(t, 60*time.Second)
	input := writeLines(t, 10)
	c := start(t, startOpts{})
	c.initialize(nil)
	progressOf := func(token any) []protocol.ProgressValue {
		c.mu.Lock()
		defer c.mu.Unlock()
		var out []protocol.ProgressValue
		for _, n := range c.notes {
			var p protocol.ProgressParams
			if n.method == protocol.MethodProgress && json.Unmarshal(n.params, &p) == nil && fmt.Sprint(p.Token) == fmt.Sprint(token) &&
				!strings.HasPrefix(p.Value.Message, "compiling ") {
				out = append(out, p.Value)
			}
		}
		return out
	}
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input},
		Parser:        protocol.ParserSpec{Plugin: filepath.Join(plugins, "parsers/string_parser/string_parser.wasm")},
		WorkDoneToken: "open-1"}, &open)
	// No wait: the notifications precede the response on the wire.
	got := progressOf("open-1")
	if len(got) != 2 || got[0].Kind != "begin" || got[0].Title == "" || got[1].Kind != "end" || !strings.Contains(got[1].Message, open.Session) {
		t.Errorf("progress of a successful open: %+v, want begin then end naming %s", got, open.Session)
	}

	err := c.call(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input},
		Parser: protocol.ParserSpec{Plugin: "no-such-plugin"}, WorkDoneToken: 7}, nil)
	wireErr(t, err, protocol.CodeNotFound)
	got = progressOf(7)
	if len(got) != 2 || got[0].Kind != "begin" || got[1].Kind != "end" || !strings.HasPrefix(got[1].Message, "failed") {
		t.Errorf("progress of a failed open: %+v, want begin then end with the failure", got)
	}
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, m := range c.notes {
		if m.method == protocol.MethodProgress && !strings.Contains(string(m.params), `"message":"compiling `) {
			n++
		}
	}
	if n != 4 {
		t.Errorf("%d $/progress notifications, want 4 (none for an open without a token)", n)
	}
}

// TestOneFinalUpdate checks that a session that ends sends exactly one
// sessions/updated with state done, then one with state closed when it is
// closed. The updates goroutine could see the final state in a progress
// snapshot and send it before the final update, which repeated it. The
// close answer comes after every update of the session (the server sends
// the closed update before answering), so counting then is exact.
func TestOneFinalUpdate(t *testing.T) {
	watchdog(t, 120*time.Second)
	input := writeLines(t, 2000)
	c := start(t, startOpts{})
	c.initialize(nil)
	for i := range 20 {
		var open protocol.SessionsOpenResult
		c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
		c.waitFinal(open.Session, 60*time.Second)
		c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: open.Session}, nil)
		ups := c.updates(open.Session)
		done := 0
		for _, u := range ups {
			if u.State == protocol.StateDone {
				done++
			}
		}
		if done != 1 || ups[len(ups)-1].State != protocol.StateClosed {
			t.Fatalf("session %d: %d updates with state done (want 1), last %+v", i, done, ups[len(ups)-1])
		}
	}
}

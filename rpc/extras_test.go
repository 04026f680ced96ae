package rpc

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestInputFD opens a session on {"stdin": true}, fed through --input-fd 3,
// and checks that a second such session is refused.
func TestInputFD(t *testing.T) {
	watchdog(t, 60*time.Second)
	c, w := startWithInput(t)
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{Stdin: true}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	wireErr(t, c.call(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{Stdin: true}, Parser: protocol.ParserSpec{Builtin: "text"}}, nil), protocol.CodeInvalidParams)
	w.WriteString("one\ntwo\nthree")
	w.Close()
	fin := c.waitFinal(open.Session, 30*time.Second)
	if fin.State != protocol.StateDone || fin.Rows != 3 {
		t.Fatalf("final: %+v", fin)
	}
}

// TestTraceAndProgress checks that --trace-file records both directions
// and that a stream with a workDoneToken reports $/progress begin and end.
func TestTraceAndProgress(t *testing.T) {
	watchdog(t, 60*time.Second)
	trace := filepath.Join(t.TempDir(), "trace.jsonl")
	input := writeLines(t, 100)
	c := start(t, startOpts{framing: "ndjson", args: []string{"--trace-file", trace}})
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	var res protocol.SessionsStreamResult
	c.mustCall(protocol.MethodSessionsStream, protocol.SessionsStreamParams{Session: open.Session, WorkDoneToken: "tok"}, &res)
	if res.Rows != 100 {
		t.Errorf("stream: %+v", res)
	}
	for _, kind := range []string{"begin", "end"} {
		c.waitNote(5*time.Second, func(n note) bool {
			var p protocol.ProgressParams
			return n.method == protocol.MethodProgress && json.Unmarshal(n.params, &p) == nil && p.Token == "tok" && p.Value.Kind == kind
		})
	}
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dirs := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		var rec struct {
			Dir string          `json:"dir"`
			Msg json.RawMessage `json:"msg"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("trace line %q: %v", sc.Text(), err)
		}
		dirs[rec.Dir]++
		if rec.Dir == "recv" && strings.Contains(string(rec.Msg), `"method":"sessions/stream"`) {
			dirs["stream"]++
		}
	}
	if dirs["recv"] < 3 || dirs["send"] < 3 || dirs["stream"] != 1 {
		t.Errorf("trace: %v", dirs)
	}
}

// TestInputFDClose closes a session whose --input-fd pipe is open but
// silent: the read waiting on it is interrupted, so the session closes at
// once. Before, the read could not be interrupted: closing waited out its
// grace period twice and logged that the parse loop did not stop.
func TestInputFDClose(t *testing.T) {
	watchdog(t, 60*time.Second)
	c, w := startWithInput(t)
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{Stdin: true}, Parser: protocol.ParserSpec{Builtin: "text"}}, &open)
	w.WriteString("one\n")
	c.waitNote(30*time.Second, func(n note) bool {
		var p protocol.SessionsUpdatedParams
		return n.method == protocol.MethodSessionsUpdated && json.Unmarshal(n.params, &p) == nil && p.Session == open.Session && p.Rows == 1
	})
	// The parse loop now waits in a read of the silent pipe.
	c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: open.Session}, nil)
	if u := c.waitClosed(open.Session, 30*time.Second); u.Rows != 1 {
		t.Errorf("closed session: %+v", u)
	}
	c.mustCall(protocol.MethodShutdown, nil, nil)
	c.notify(protocol.MethodExit, nil)
	if code := c.waitExit(60 * time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
	if strings.Contains(c.stderr.String(), "did not stop in time") {
		t.Errorf("closing waited for a read that could not be interrupted:\n%s", c.stderr.String())
	}
}

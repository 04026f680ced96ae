package snippets

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"reflect"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/testutil"
)

// session is a `session` block's command (a JSON-RPC server reading NDJSON
// on stdin) into which the page's ndjson blocks are pasted one by one.
type session struct {
	start   block
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan outLine // what the command prints, line by line, then one with eof set
	stderr  bytes.Buffer
	updates []any // sessions/updated notifications received so far
	broken  bool  // a paste failed: the rest of the session means nothing
}

func (e *env) startSession(t *testing.T, s step) (*session, error) {
	if s.want != nil {
		return nil, fmt.Errorf("%s: a session block's output comes after its ndjson blocks, not after it", s.block)
	}
	cmd, err := e.command(t, s.block, e.base)
	if err != nil {
		return nil, err
	}
	sess := &session{start: s.block, cmd: cmd, lines: make(chan outLine, 1024)}
	cmd.Stderr = &sess.stderr
	if sess.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.block, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
		for sc.Scan() {
			sess.lines <- outLine{text: sc.Text()}
		}
		sess.lines <- outLine{eof: true}
	}()
	return sess, nil
}

// paste writes an ndjson block's lines and waits until every message of
// its output block has arrived.
func (sess *session) paste(t *testing.T, s step) error {
	if sess.broken {
		return nil // the first failure was reported
	}
	err := sess.exchange(t, s)
	if err != nil {
		sess.broken = true
	}
	return err
}

func (sess *session) exchange(t *testing.T, s step) error {
	if s.want == nil {
		return fmt.Errorf("%s: an ndjson block needs an output block: what to wait for before the next paste", s.block)
	}
	want, err := decodeLines(s.want.text)
	if err != nil {
		return fmt.Errorf("%s: %w", *s.want, err)
	}
	if _, err := io.WriteString(sess.stdin, s.text); err != nil {
		return fmt.Errorf("%s: writing to %s: %w%s", s.block, sess.start, err, sess.stderrNote())
	}
	for len(want) > 0 {
		out, ok := testutil.Wait(t, sess.lines)
		if !ok {
			return fmt.Errorf("%s: still waiting for %s when the test's deadline came near%s", s.block, compact(want[0]), sess.stderrNote())
		}
		if out.eof {
			return fmt.Errorf("%s: %s ended its output while %s was expected%s", s.block, sess.start, compact(want[0]), sess.stderrNote())
		}
		line := out.text
		got, err := decode(line)
		if err != nil {
			return fmt.Errorf("%s: %s printed %q, not JSON: %v", s.block, sess.start, line, err)
		}
		if i := indexOf(want, got); i >= 0 {
			want = append(want[:i], want[i+1:]...)
			sess.note(got)
			continue
		}
		if !sess.passThrough(got) {
			return fmt.Errorf("%s: unexpected message\n%s\nwhile waiting for\n%s", s.block, line, compactAll(want))
		}
		sess.note(got)
	}
	return nil
}

// outLine is a line the session's command printed, or the end of its output.
type outLine struct {
	text string
	eof  bool
}

// finish closes the command's stdin and checks that it printed nothing
// more than pass-through messages and exited with status 0.
func (sess *session) finish(t *testing.T) error {
	_ = sess.stdin.Close()
	if sess.broken {
		_ = sess.cmd.Process.Kill()
		_ = sess.cmd.Wait()
		return nil
	}
	for {
		out, ok := testutil.Wait(t, sess.lines)
		if !ok {
			_ = sess.cmd.Process.Kill()
			return fmt.Errorf("%s: still running when the test's deadline came near%s", sess.start, sess.stderrNote())
		}
		if out.eof {
			break
		}
		got, err := decode(out.text)
		if err != nil || !sess.passThrough(got) {
			_ = sess.cmd.Process.Kill()
			return fmt.Errorf("%s: unexpected message after the last block: %s", sess.start, out.text)
		}
	}
	if err := sess.cmd.Wait(); err != nil {
		return fmt.Errorf("%s: %v, want exit status 0%s", sess.start, err, sess.stderrNote())
	}
	return nil
}

// passThrough reports the messages an output block leaves out: plugin log
// lines, live progress (of sessions and searches), and a repeat of a sessions/updated already seen
// (the final state can be announced twice when the end of parsing races
// with a progress notification).
func (sess *session) passThrough(msg any) bool {
	m, _ := msg.(map[string]any)
	params, _ := m["params"].(map[string]any)
	switch m["method"] {
	case "window/logMessage":
		return true
	case "sessions/updated":
		return params["state"] == "running" || indexOf(sess.updates, msg) >= 0
	case "searches/updated":
		return params["state"] == "running" || params["state"] == "live"
	}
	return false
}

func (sess *session) note(msg any) {
	if m, _ := msg.(map[string]any); m["method"] == "sessions/updated" {
		sess.updates = append(sess.updates, msg)
	}
}

func (sess *session) stderrNote() string {
	if sess.stderr.Len() == 0 {
		return ""
	}
	return "\nits stderr:\n" + sess.stderr.String()
}

// decodeLines decodes an output block: one JSON message per line.
func decodeLines(text string) ([]any, error) {
	var out []any
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		v, err := decode(l)
		if err != nil {
			return nil, fmt.Errorf("output line %q: %w", l, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// decode decodes one message. serverInfo.version depends on how the binary
// was built, so any non-empty string there reads as "devel", the value the
// page shows.
func decode(line string) (any, error) {
	var v any
	if err := json.Unmarshal([]byte(line), &v); err != nil {
		return nil, err
	}
	if m, ok := v.(map[string]any); ok {
		if res, ok := m["result"].(map[string]any); ok {
			if si, ok := res["serverInfo"].(map[string]any); ok {
				if ver, ok := si["version"].(string); ok && ver != "" {
					si["version"] = "devel"
				}
			}
		}
	}
	return v, nil
}

func indexOf(list []any, v any) int {
	for i, w := range list {
		if reflect.DeepEqual(w, v) {
			return i
		}
	}
	return -1
}

func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func compactAll(vs []any) string {
	var s []string
	for _, v := range vs {
		s = append(s, compact(v))
	}
	return strings.Join(s, "\n")
}

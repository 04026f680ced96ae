package rpc

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/loggen"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestCutDependentRowsAreReported: sessions on a log larger than two 10 MiB
// windows, whose lines cross the places where the server cuts the input.
// The Chipmunk-faithful string_parser (a cut line is a row at once) stores
// one row per line, because the server parses again past the cut, and
// reports the row that came out different as cutDependentRows in the final
// sessions/updated and in one log warning naming the session and the plugin;
// the cut-independent string_parser reports nothing. The old server stored
// the cut line as two rows and said nothing.
func TestCutDependentRowsAreReported(t *testing.T) {
	watchdog(t, 120*time.Second)
	data, _ := loggen.Edges(25<<20, 10<<20)
	path := filepath.Join(t.TempDir(), "edges.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	lines := uint64(bytes.Count(data, []byte("\n")))
	c := start(t, startOpts{})
	c.initialize(nil)
	var sessions [2]string
	for i, fx := range []string{"compat/string_parser_chipmunk/string_parser_chipmunk.wasm", "parsers/string_parser/string_parser.wasm"} {
		var open protocol.SessionsOpenResult
		c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: path}, Parser: protocol.ParserSpec{Plugin: filepath.Join(plugins, fx)}}, &open)
		fin := c.waitFinal(open.Session, 60*time.Second)
		want := uint64(1 - i)
		if fin.State != protocol.StateDone || fin.Rows != lines || fin.CutDependentRows != want || fin.Bytes != uint64(len(data)) {
			t.Errorf("%s: final update %+v; want done, %d rows, %d cut-dependent", fx, fin, lines, want)
		}
		sessions[i] = open.Session
	}
	c.stdin.Close()
	c.waitExit(30 * time.Second) // stderr is complete once the process has exited
	logs := c.stderrText()
	if n := strings.Count(logs, "rows depend on where the input is cut"); n != 1 {
		t.Fatalf("%d warnings about rows depending on the cut, want 1:\n%s", n, logs)
	}
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "rows depend on where the input is cut") &&
			(!strings.Contains(l, sessions[0]) || !strings.Contains(l, "string_parser_chipmunk") || strings.Contains(l, sessions[1]+`"`)) {
			t.Errorf("the warning %q does not name session %s and plugin string_parser_chipmunk", l, sessions[0])
		}
	}
}

package rpc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// progressOf returns the $/progress values received so far for token.
func (c *client) progressOf(token any) []protocol.ProgressValue {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []protocol.ProgressValue
	for _, n := range c.notes {
		var p protocol.ProgressParams
		if n.method == protocol.MethodProgress && json.Unmarshal(n.params, &p) == nil && fmt.Sprint(p.Token) == fmt.Sprint(token) {
			out = append(out, p.Value)
		}
	}
	return out
}

// waitProgressEnd waits for the end of token's progress and returns the
// whole series.
func (c *client) waitProgressEnd(token any) []protocol.ProgressValue {
	c.t.Helper()
	c.waitNote(60*time.Second, func(n note) bool {
		var p protocol.ProgressParams
		return n.method == protocol.MethodProgress && json.Unmarshal(n.params, &p) == nil &&
			fmt.Sprint(p.Token) == fmt.Sprint(token) && p.Value.Kind == "end"
	})
	return c.progressOf(token)
}

// TestParseProgress opens a session on a 10 MB file with a progressToken:
// the begin (at 0%) arrives before the response, then reports whose
// percentages only go up, each one different (so at most 101 of them,
// whatever the number of driver callbacks), the last at 100%, and an end
// naming the rows. The open's own workDoneToken series is unchanged and
// separate.
func TestParseProgress(t *testing.T) {
	watchdog(t, 60*time.Second)
	const lines = 300000
	input := writeLines(t, lines)
	c := start(t, startOpts{})
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: protocol.ParserSpec{Builtin: "text"},
		WorkDoneToken: "open-1", ProgressToken: "parse-1"}, &open)
	if got := c.progressOf("parse-1"); len(got) == 0 || got[0].Kind != "begin" || got[0].Percentage == nil || *got[0].Percentage != 0 ||
		got[0].Title != "parsing "+open.Session {
		t.Fatalf("before the response: %+v, want a begin at 0%% titled \"parsing %s\"", got, open.Session)
	}
	if got := c.progressOf("open-1"); len(got) != 2 || got[1].Kind != "end" {
		t.Errorf("workDoneToken series %+v, want begin and end", got)
	}
	got := c.waitProgressEnd("parse-1")
	reports := got[1 : len(got)-1]
	if len(reports) == 0 {
		t.Fatalf("no reports: %+v", got)
	}
	prev := 0
	for i, r := range reports {
		if r.Kind != "report" || r.Percentage == nil || *r.Percentage <= prev && i > 0 || *r.Percentage > 100 {
			t.Fatalf("report %d of %+v: want percentages that rise, each different", i, got)
		}
		prev = *r.Percentage
	}
	if prev != 100 {
		t.Errorf("last report at %d%%, want 100%%", prev)
	}
	if end := got[len(got)-1]; end.Message != fmt.Sprintf("done: %d rows", lines) {
		t.Errorf("end %+v, want \"done: %d rows\"", end, lines)
	}
	if u := c.waitFinal(open.Session, 30*time.Second); u.State != protocol.StateDone || u.Rows != lines {
		t.Errorf("final update %+v", u)
	}
}

// TestParseProgressStdin: a source without a known size (--input-fd, and
// a followed file, which grows) gets reports of the bytes read and rows,
// without a percentage, and closing the session ends the series with
// "closed".
func TestParseProgressStdin(t *testing.T) {
	t.Run("stdin", func(t *testing.T) {
		c, w := startWithInput(t)
		testProgressUnknownTotal(t, c, protocol.SourceSpec{Stdin: true}, w.WriteString)
	})
	t.Run("follow", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "grows.log")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		testProgressUnknownTotal(t, start(t, startOpts{}), protocol.SourceSpec{File: path, Follow: true}, f.WriteString)
	})
}

func testProgressUnknownTotal(t *testing.T, c *client, src protocol.SourceSpec, write func(string) (int, error)) {
	watchdog(t, 60*time.Second)
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: src, Parser: protocol.ParserSpec{Builtin: "text"}, ProgressToken: 9}, &open)
	if _, err := write(strings.Repeat("a line\n", 1000)); err != nil {
		t.Fatal(err)
	}
	c.waitNote(30*time.Second, func(n note) bool {
		var p protocol.ProgressParams
		return n.method == protocol.MethodProgress && json.Unmarshal(n.params, &p) == nil && fmt.Sprint(p.Token) == "9" &&
			p.Value.Message == "0.0 MB read, 1000 rows"
	})
	c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: open.Session}, nil)
	got := c.waitProgressEnd(9)
	if got[0].Kind != "begin" || got[0].Percentage != nil {
		t.Errorf("begin %+v, want no percentage", got[0])
	}
	for _, v := range got[1 : len(got)-1] {
		if v.Percentage != nil || !strings.HasSuffix(v.Message, " rows") {
			t.Errorf("report %+v: want bytes and rows, no percentage", v)
		}
	}
	if end := got[len(got)-1]; end.Message != "closed: 1000 rows" {
		t.Errorf("end %+v, want \"closed: 1000 rows\"", end)
	}
}

// TestCompileProgress uses a cache directory of its own. On the cold
// cache, plugins/list compiles string_parser and says so under its
// workDoneToken; a second server on the now warm cache lists without a
// compile report; a third, whose compiled code was removed but whose
// metadata is cached, lists without compiling and compiles at
// sessions/open, which reports it.
func TestCompileProgress(t *testing.T) {
	watchdog(t, 60*time.Second)
	cache := t.TempDir()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "parsers"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(plugins, "parsers/string_parser"), filepath.Join(root, "parsers/string_parser")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(plugins, "parsers/string_parser/string_parser.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	compiling := fmt.Sprintf("compiling string_parser (%.1f MB), first use only", float64(fi.Size())/1e6)
	server := func() *client {
		c := start(t, startOpts{args: []string{"--cache-dir", cache, "--plugins-dir", root}})
		c.initialize(nil)
		return c
	}
	messages := func(vs []protocol.ProgressValue) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.Kind+" "+v.Message)
		}
		return out
	}

	c := server()
	var list protocol.PluginsListResult
	c.mustCall(protocol.MethodPluginsList, protocol.PluginsListParams{WorkDoneToken: "list-1"}, &list)
	want := []string{"begin ", "report " + compiling, "end 1 plugins"}
	if got := messages(c.progressOf("list-1")); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("cold cache, plugins/list: %q, want %q", got, want)
	}

	c = server()
	c.mustCall(protocol.MethodPluginsReload, protocol.PluginsListParams{WorkDoneToken: 2}, &list)
	if got := messages(c.progressOf(2)); fmt.Sprint(got) != fmt.Sprint([]string{"begin ", "end 1 plugins"}) {
		t.Errorf("warm cache, plugins/reload: %q, want no compile report", got)
	}

	if err := os.RemoveAll(filepath.Join(cache, "core")); err != nil {
		t.Fatal(err)
	}
	c = server()
	c.mustCall(protocol.MethodPluginsList, protocol.PluginsListParams{WorkDoneToken: 3}, &list)
	if got := messages(c.progressOf(3)); len(got) != 2 {
		t.Errorf("cached metadata, plugins/list: %q, want no compile report", got)
	}
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: writeLines(t, 3)},
		Parser: protocol.ParserSpec{Plugin: "string_parser"}, WorkDoneToken: 4}, &open)
	want = []string{"begin ", "report " + compiling, "end session " + open.Session + " open"}
	if got := messages(c.progressOf(4)); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sessions/open compiling at init: %q, want %q", got, want)
	}
}

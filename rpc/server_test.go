package rpc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chiphost/chiphost/rpc/protocol"
)

var framings = []string{"header", "ndjson"}

// TestLifecycle checks the LSP lifecycle rules in both framings: -32002
// before initialize, -32601 for unknown methods, -32600 after shutdown, and
// exit status 0 after shutdown, 1 without, 0 on stdin EOF.
func TestLifecycle(t *testing.T) {
	for _, framing := range framings {
		t.Run(framing, func(t *testing.T) {
			watchdog(t, 60*time.Second)
			c := start(t, startOpts{framing: framing})
			wireErr(t, c.call(protocol.MethodPluginsList, nil, nil), protocol.CodeServerNotInitialized)
			c.initialize(nil)
			wireErr(t, c.call(protocol.MethodInitialize, protocol.InitializeParams{}, nil), protocol.CodeInvalidRequest)
			wireErr(t, c.call("no/such/method", nil, nil), protocol.CodeMethodNotFound)
			wireErr(t, c.call("$/unknownRequest", nil, nil), protocol.CodeMethodNotFound)
			c.notify("$/unknownNotification", nil) // ignored, connection survives
			var list protocol.PluginsListResult
			c.mustCall(protocol.MethodPluginsList, nil, &list)
			if list.Plugins == nil || len(list.Plugins) != 0 {
				t.Errorf("plugins/list with no roots: want [], got %#v", list.Plugins)
			}
			c.mustCall(protocol.MethodShutdown, nil, nil)
			wireErr(t, c.call(protocol.MethodPluginsList, nil, nil), protocol.CodeInvalidRequest)
			c.notify(protocol.MethodExit, nil)
			if code := c.waitExit(10 * time.Second); code != 0 {
				t.Errorf("exit after shutdown: status %d, want 0", code)
			}
		})
	}
	cases := []struct {
		name   string
		script func(c *client)
		want   int
	}{
		{"exit without shutdown", func(c *client) { c.initialize(nil); c.notify(protocol.MethodExit, nil) }, 1},
		{"exit before initialize", func(c *client) { c.notify(protocol.MethodExit, nil) }, 1},
		{"stdin EOF", func(c *client) { c.initialize(nil); c.stdin.Close() }, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			watchdog(t, 60*time.Second)
			c := start(t, startOpts{})
			tc.script(c)
			if code := c.waitExit(10 * time.Second); code != tc.want {
				t.Errorf("status %d, want %d", code, tc.want)
			}
		})
	}
}

// TestMalformedFrames sends broken frames over raw pipes and checks that
// each gets an error response and the server goes on answering.
func TestMalformedFrames(t *testing.T) {
	huge := fmt.Sprintf("Content-Length: %d\r\n\r\n", protocol.MaxInFrame+1) + strings.Repeat(" ", protocol.MaxInFrame+1)
	cases := []struct {
		framing string
		name    string
		send    string
		code    float64
	}{
		{"ndjson", "invalid JSON", "{\"jsonrpc\":\"2.0\",\"id\":1,\n", float64(protocol.CodeParseError)},
		{"ndjson", "not a request", `{"hello":"world"}` + "\n", float64(protocol.CodeInvalidRequest)},
		{"header", "invalid JSON", frame("header", `{"jsonrpc":"2.0","id":1,`), float64(protocol.CodeParseError)},
		{"header", "header without colon", "Content-Length 5\r\n\r\n", float64(protocol.CodeParseError)},
		{"header", "non-numeric length", "Content-Length: abc\r\n\r\n", float64(protocol.CodeParseError)},
		{"header", "missing length", "Content-Type: x\r\n\r\n", float64(protocol.CodeParseError)},
		{"header", "huge Content-Length", huge, float64(protocol.CodeInvalidRequest)},
	}
	for _, tc := range cases {
		t.Run(tc.framing+"/"+tc.name, func(t *testing.T) {
			watchdog(t, 60*time.Second)
			c := start(t, startOpts{framing: tc.framing, raw: true})
			r := bufio.NewReaderSize(c.stdout, 1<<16)
			go func() { c.stdin.Write([]byte(tc.send)) }()
			m := readFrame(t, r, tc.framing)
			e, _ := m["error"].(map[string]any)
			if e == nil || e["code"] != tc.code || m["id"] != nil {
				t.Fatalf("want null-id error %v, got %v", tc.code, m)
			}
			// The server goes on.
			c.stdin.Write([]byte(frame(tc.framing, `{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}`)))
			m = readFrame(t, r, tc.framing)
			if m["id"] != float64(7) || m["result"] == nil {
				t.Fatalf("after a malformed frame: want the initialize result, got %v", m)
			}
		})
	}
}

// TestResync sends each kind of malformed frame glued to a valid one in a
// single write, over real pipes, and checks that the malformed frame gets
// exactly one null-id error and that the valid frames after it are
// answered.
func TestResync(t *testing.T) {
	initialize := `{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}`
	chars := `{"jsonrpc":"2.0","method":"x/unknown","params":["` + strings.Repeat("é", 10) + `"]}`
	cases := []struct {
		framing string
		name    string
		send    string
		code    float64
	}{
		{"header", "oversized frame", fmt.Sprintf("Content-Length: %d\r\n\r\n", protocol.MaxInFrame+1) + strings.Repeat("x", protocol.MaxInFrame+1), float64(protocol.CodeInvalidRequest)},
		{"header", "no Content-Length", "Content-Type: x\r\n\r\n" + initialize, float64(protocol.CodeParseError)},
		{"header", "body without the blank line", fmt.Sprintf("Content-Length: %d\r\n%s", len(initialize), initialize), float64(protocol.CodeParseError)},
		{"header", "junk before a header", "garbage", float64(protocol.CodeParseError)},
		{"header", "junk line before a header", "garbage\r\n", float64(protocol.CodeParseError)},
		{"header", "Content-Length in characters", fmt.Sprintf("Content-Length: %d\r\n\r\n%s", utf8.RuneCountInString(chars), chars), float64(protocol.CodeParseError)},
		{"header", "invalid Content-Length", "Content-Length: 12abc\r\n\r\n" + initialize, float64(protocol.CodeParseError)},
		{"header", "header line too long", strings.Repeat("x", 10000) + "\r\n", float64(protocol.CodeParseError)},
		{"ndjson", "over-long line", strings.Repeat("x", protocol.MaxInFrame+1) + "\n", float64(protocol.CodeInvalidRequest)},
		{"ndjson", "invalid JSON", "{\"jsonrpc\":\"2.0\",\n", float64(protocol.CodeParseError)},
	}
	for _, tc := range cases {
		t.Run(tc.framing+"/"+tc.name, func(t *testing.T) {
			watchdog(t, 60*time.Second)
			c := start(t, startOpts{framing: tc.framing, raw: true})
			r := bufio.NewReaderSize(c.stdout, 1<<16)
			go c.stdin.Write([]byte(tc.send + frame(tc.framing, initialize)))
			m := readFrame(t, r, tc.framing)
			e, _ := m["error"].(map[string]any)
			if e == nil || e["code"] != tc.code || m["id"] != nil {
				t.Fatalf("want one null-id error %v, got %v", tc.code, m)
			}
			if msg, _ := e["message"].(string); len(msg) > 400 {
				t.Errorf("error message of %d bytes", len(msg))
			}
			m = readFrame(t, r, tc.framing)
			if m["id"] != float64(7) || m["result"] == nil {
				t.Fatalf("the frame after the malformed one: want the initialize result, got %v", m)
			}
			// No second error for the same frame: the next answer is the
			// next request's.
			c.stdin.Write([]byte(frame(tc.framing, `{"jsonrpc":"2.0","id":8,"method":"plugins/list"}`)))
			if m = readFrame(t, r, tc.framing); m["id"] != float64(8) || m["result"] == nil {
				t.Fatalf("want the plugins/list result, got %v", m)
			}
		})
	}
}

// TestInvalidParams checks -32602 for params of the wrong JSON type.
func TestInvalidParams(t *testing.T) {
	watchdog(t, 60*time.Second)
	c := start(t, startOpts{})
	c.initialize(nil)
	cases := []struct {
		method string
		params any
	}{
		{protocol.MethodSessionsGrab, map[string]any{"session": 5, "start": 0, "count": 1}},
		{protocol.MethodSessionsGrab, map[string]any{"session": "s1", "start": "zero", "count": 1}},
		{protocol.MethodSessionsGrab, []int{1, 2}},
		{protocol.MethodSessionsOpen, map[string]any{"source": "file.txt", "parser": map[string]any{"builtin": "text"}}},
		{protocol.MethodSessionsOpen, map[string]any{"source": map[string]any{"file": "x"}, "parser": map[string]any{}}},
		{protocol.MethodSessionsOpen, map[string]any{"source": map[string]any{"file": "x", "stdin": true}, "parser": map[string]any{"builtin": "text"}}},
		{protocol.MethodSessionsOpen, map[string]any{"source": map[string]any{"stdin": true}, "parser": map[string]any{"builtin": "text"}}},
		{protocol.MethodSessionsOpen, map[string]any{"source": map[string]any{"file": "x"}, "parser": map[string]any{"builtin": "dlt"}}},
		{protocol.MethodPluginsDescribe, map[string]any{"id": 3}},
	}
	for i, tc := range cases {
		t.Run(strconv.Itoa(i)+"/"+tc.method, func(t *testing.T) {
			wireErr(t, c.call(tc.method, tc.params, nil), protocol.CodeInvalidParams)
		})
	}
}

// copyFile copies src to dst, creating dst's directory.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPlugins covers plugins/list (a valid and an invalid plugin),
// plugins/describe (configItems and the derived JSON Schema) and
// plugins/reload (a plugin added on disk appears).
func TestPlugins(t *testing.T) {
	watchdog(t, 120*time.Second)
	root := t.TempDir()
	copyFile(t, filepath.Join(plugins, "parsers/string_parser/string_parser.wasm"), filepath.Join(root, "parsers/string_parser/string_parser.wasm"))
	if err := os.MkdirAll(filepath.Join(root, "parsers/broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(root, "parsers/broken/broken.wasm"), []byte("not wasm"), 0o644)

	c := start(t, startOpts{})
	c.initialize(&protocol.InitializationOptions{PluginDirs: []string{root}})
	var list protocol.PluginsListResult
	c.mustCall(protocol.MethodPluginsList, nil, &list)
	states := map[string]protocol.PluginInfo{}
	for _, p := range list.Plugins {
		states[p.Name] = p
	}
	if p := states["string_parser"]; p.State != "valid" || p.Kind != "parser" || p.Version != "0.1.0" || p.ID != filepath.Join(root, "parsers/string_parser") {
		t.Errorf("string_parser: %+v", p)
	}
	if p := states["broken"]; p.State != "invalid" || p.Error == nil || p.Error.Detail == "" {
		t.Errorf("broken: want invalid with an error, got %+v", p)
	}

	var d struct {
		protocol.PluginsDescribeResult
		ConfigSchema map[string]any `json:"configSchema"`
	}
	c.mustCall(protocol.MethodPluginsDescribe, protocol.PluginsDescribeParams{ID: "string_parser"}, &d)
	if d.Kind != "parser" || len(d.ConfigItems) == 0 || d.RenderOptions == nil || len(d.RenderOptions.Columns) != 2 {
		t.Errorf("describe: %+v", d.PluginsDescribeResult)
	}
	if _, has := d.ConfigSchema["$schema"]; has || d.ConfigSchema["type"] != "object" {
		t.Errorf("configSchema: want an object schema without $schema, got %v", d.ConfigSchema)
	}
	props, _ := d.ConfigSchema["properties"].(map[string]any)
	if len(props) != len(d.ConfigItems) {
		t.Errorf("configSchema has %d properties for %d items", len(props), len(d.ConfigItems))
	}
	if f, _ := props["float_idx"].(map[string]any); f == nil || f["default"] != 1.55 {
		t.Errorf("float default: want 1.55, got %v", props["float_idx"])
	}
	wireErr(t, c.call(protocol.MethodPluginsDescribe, protocol.PluginsDescribeParams{ID: "nope"}, nil), protocol.CodeNotFound)

	copyFile(t, filepath.Join(plugins, "bytesources/file_source/file_source.wasm"), filepath.Join(root, "bytesources/file_source/file_source.wasm"))
	c.mustCall(protocol.MethodPluginsReload, nil, &list)
	found := false
	for _, p := range list.Plugins {
		found = found || (p.Name == "file_source" && p.Kind == "bytesource" && p.State == "valid")
	}
	if !found || len(list.Plugins) != 3 {
		t.Errorf("reload: want 3 plugins incl. file_source, got %+v", list.Plugins)
	}
}

// oracleRows parses input with `chiphost parse --output jsonl` (the
// one-shot path, which does not use rpc) and returns its rows.
func oracleRows(t *testing.T, parser, input string) []row {
	t.Helper()
	cmd := exec.Command(chiphostBin, "parse", "--no-default-plugins", "--cache-dir", cacheDir, "--parser", parser, "--output", "jsonl", input)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chiphost parse: %v", err)
	}
	var rows []row
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r row
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("oracle line %q: %v", line, err)
		}
		rows = append(rows, r)
	}
	return rows
}

type row struct {
	Index   uint64   `json:"index"`
	Line    *string  `json:"line"`
	Columns []string `json:"columns"`
}

func (r row) String() string {
	if r.Line != nil {
		return fmt.Sprintf("%d line %q", r.Index, *r.Line)
	}
	return fmt.Sprintf("%d columns %q", r.Index, r.Columns)
}

// grabbed is the decoded form of a grab result.
type grabbed struct {
	Items []row `json:"items"`
}

// TestSessionsGrab parses a 200k-line file with the built-in text parser
// and with string_parser, checks the row counts and compares random grab
// ranges with the expected rows: the input lines for text, and the rows of
// `chiphost parse` for string_parser (which, like Chipmunk's, splits a line
// that crosses a chunk boundary).
func TestSessionsGrab(t *testing.T) {
	watchdog(t, 180*time.Second)
	const n = 200_000
	input := writeLines(t, n)
	sp := filepath.Join(plugins, "parsers/string_parser/string_parser.wasm")
	var textRows []row
	for i := range n {
		l := lineText(i)
		textRows = append(textRows, row{Index: uint64(i), Line: &l})
	}
	c := start(t, startOpts{})
	c.initialize(nil)
	cases := []struct {
		name   string
		parser protocol.ParserSpec
		want   []row
	}{
		{"text", protocol.ParserSpec{Builtin: "text"}, textRows},
		{"string_parser", protocol.ParserSpec{Plugin: sp}, oracleRows(t, sp, input)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var open protocol.SessionsOpenResult
			c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input}, Parser: tc.parser}, &open)
			fin := c.waitFinal(open.Session, 120*time.Second)
			total := len(tc.want)
			if fin.State != protocol.StateDone || fin.Rows != uint64(total) || fin.Error != nil || total < n {
				t.Fatalf("final update: %+v, want %d rows", fin, total)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				start, count := rng.IntN(total), 1+rng.IntN(3000)
				var g grabbed
				c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: open.Session, Start: uint64(start), Count: uint64(count)}, &g)
				if want := min(count, total-start); len(g.Items) != want {
					t.Fatalf("grab %d+%d: %d items, want %d", start, count, len(g.Items), want)
				}
				for k, it := range g.Items {
					if it.String() != tc.want[start+k].String() {
						t.Fatalf("grab %d+%d: item %d = %v, want %v", start, count, k, it, tc.want[start+k])
					}
				}
			}
			var g grabbed
			c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: open.Session, Start: uint64(total), Count: 10}, &g)
			if len(g.Items) != 0 {
				t.Errorf("grab past the end: %d items", len(g.Items))
			}
			wireErr(t, c.call(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: open.Session, Start: 0, Count: protocol.MaxGrabCount + 1}, nil), protocol.CodeInvalidParams)
			c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: open.Session}, nil)
			wireErr(t, c.call(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: open.Session, Count: 1}, nil), protocol.CodeNotFound)
		})
	}
}

// TestSessionsConfig checks config validation before init: wrong types and
// unknown ids give -32602 with data.errors naming the fields.
func TestSessionsConfig(t *testing.T) {
	watchdog(t, 60*time.Second)
	c := start(t, startOpts{})
	c.initialize(nil)
	sp := filepath.Join(plugins, "parsers/string_parser/string_parser.wasm")
	cases := []struct {
		name   string
		config map[string]json.RawMessage
		fields []string
	}{
		{"wrong type", map[string]json.RawMessage{"integer_idx": json.RawMessage(`"x"`)}, []string{"integer_idx"}},
		{"out of range", map[string]json.RawMessage{"integer_idx": json.RawMessage(`4294967296`)}, []string{"integer_idx"}},
		{"missing file", map[string]json.RawMessage{"files_idx": json.RawMessage(`["/no/such/file.log"]`)}, []string{"files_idx"}},
		{"unknown and bad option", map[string]json.RawMessage{"dropdown_idx": json.RawMessage(`"Option 99"`), "zzz": json.RawMessage(`1`)}, []string{"dropdown_idx", "zzz"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.call(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: sp}, Parser: protocol.ParserSpec{Plugin: sp, Config: tc.config}}, nil)
			d := wireErr(t, err, protocol.CodeInvalidParams)
			var got []string
			for _, e := range d.Errors {
				got = append(got, e.Field)
			}
			if d.Kind != "config" || strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Errorf("data: %+v, want fields %v", d, tc.fields)
			}
		})
	}
}

// TestSessionsFileSource reads through the file_source byte-source plugin.
func TestSessionsFileSource(t *testing.T) {
	watchdog(t, 60*time.Second)
	const n = 1000
	input := writeLines(t, n)
	c := start(t, startOpts{})
	c.initialize(nil)
	path, _ := json.Marshal([]string{input})
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{
		Source: protocol.SourceSpec{Plugin: filepath.Join(plugins, "bytesources/file_source/file_source.wasm"),
			Config: map[string]json.RawMessage{"input-path": path}},
		Parser: protocol.ParserSpec{Builtin: "text"},
	}, &open)
	fin := c.waitFinal(open.Session, 60*time.Second)
	if fin.State != protocol.StateDone || fin.Rows != n {
		t.Fatalf("final update: %+v", fin)
	}
	var g grabbed
	c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: open.Session, Start: n - 2, Count: 5}, &g)
	if len(g.Items) != 2 || g.Items[1].Line == nil || *g.Items[1].Line != lineText(n-1) {
		t.Fatalf("grab: %+v", g)
	}
}

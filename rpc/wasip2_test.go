package rpc

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestSessionsWASIP2Parser parses a file in a session with the JavaScript
// parser built with WASI 0.2 on (its main module imports wasi:io,
// wasi:clocks and wasi:random directly): the rows are jco's for the same
// lines (oracle scenarios chipmunk_string_parser*, where it is a twin of the
// WASI-off build).
func TestSessionsWASIP2Parser(t *testing.T) {
	watchdog(t, 120*time.Second) // a 12 MB plugin compiles on first use
	input := filepath.Join(t.TempDir(), "in.log")
	if err := os.WriteFile(input, []byte("hello\nw\xc3\xb6rld\r\nbad \xff\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"5", "hello"}, {"7", "wörld\r"}, {"7", "bad \ufffd"}}
	c := start(t, startOpts{})
	c.initialize(nil)
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input},
		Parser: protocol.ParserSpec{Plugin: filepath.Join(plugins, "wasip2", "js_wasi_string_parser", "js_wasi_string_parser.wasm")}}, &open)
	fin := c.waitFinal(open.Session, 100*time.Second)
	if fin.State != protocol.StateDone || fin.Rows != uint64(len(want)) || fin.Error != nil {
		t.Fatalf("final update: %+v", fin)
	}
	var g grabbed
	c.mustCall(protocol.MethodSessionsGrab, protocol.SessionsGrabParams{Session: open.Session, Count: 10}, &g)
	var got [][]string
	for _, it := range g.Items {
		got = append(got, it.Columns)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows %q, want %q", got, want)
	}
}

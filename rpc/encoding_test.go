package rpc

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestSessionsStringEncodings parses a Latin-1 file in sessions with the
// WAT parser built with string-encoding=utf16 and with latin1+utf16: the
// prefix from the config and every line come back as the same rows, those
// jco gives for the same input (oracle scenario utf16_lines, first parse).
func TestSessionsStringEncodings(t *testing.T) {
	watchdog(t, 60*time.Second)
	input := filepath.Join(t.TempDir(), "latin1.log")
	if err := os.WriteFile(input, []byte("hello\ncaf\xe9 \xff\nlast"), 0o644); err != nil {
		t.Fatal(err)
	}
	const prefix = "Ünï ✓ 😀"
	want := [][]string{{prefix, "hello"}, {prefix, "café ÿ"}, {prefix, "last"}}
	c := start(t, startOpts{})
	c.initialize(nil)
	for _, fx := range []string{"utf16_lines", "latin1_lines"} {
		t.Run(fx, func(t *testing.T) {
			cfg, _ := json.Marshal(prefix)
			var open protocol.SessionsOpenResult
			c.mustCall(protocol.MethodSessionsOpen, protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input},
				Parser: protocol.ParserSpec{Plugin: filepath.Join(plugins, "compat", fx, fx+".wasm"),
					Config: map[string]json.RawMessage{"prefix": cfg}}}, &open)
			fin := c.waitFinal(open.Session, 30*time.Second)
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
			c.mustCall(protocol.MethodSessionsClose, protocol.SessionsCloseParams{Session: open.Session}, nil)
		})
	}
}

package runtime_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/loggen"
	"github.com/chiphost/chiphost/internal/stringparser"
	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

func genLog(size int, dirty bool) []byte { return loggen.Log(size, dirty) }

// rowsOf parses input and returns the rows as "col1\x04col2" strings.
func rowsOf(t testing.TB, p driver.Parser, input []byte) []string {
	t.Helper()
	var rows []string
	_, err := driver.Run(context.Background(), &driver.ReaderSource{R: bytes.NewReader(input)}, p, driver.SinkFunc(func(_ context.Context, rs []driver.Row) error {
		for _, r := range rs {
			m := r.Item.Message
			if m.Columns != nil {
				rows = append(rows, strings.Join(m.Columns, "\x04"))
			} else {
				rows = append(rows, m.Line)
			}
		}
		return nil
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func newParser(t testing.TB, h *Host, path string, cfg map[string]schema.Value) *ParserInstance {
	t.Helper()
	ctx := context.Background()
	p, err := h.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := schema.Complete(p.ConfigSchemas, cfg)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := p.NewParser(ctx, &InitOptions{Config: settings})
	if err != nil {
		t.Fatal(err)
	}
	return pi
}

// TestStringParserAgrees parses the same dirty 2 MB log, ending in a line
// without a newline, with the native Go string_parser and the plugin builds,
// through the driver: all rows must be identical. The cut-independent C
// build gives the tail whole (after the repeat call); the Chipmunk-faithful
// builds (C and JavaScript) drop its last byte.
func TestStringParserAgrees(t *testing.T) {
	h := newTestHost(t, nil)
	input := append(genLog(2<<20, true), "tail without a newline"...)
	for _, tc := range []struct {
		native   *stringparser.Parser
		fixtures []string
		lastRow  string
	}{
		{&stringparser.Parser{}, []string{"parsers/string_parser/string_parser.wasm", "compat/string_parser_draft/string_parser_draft.wasm"}, "22\x04tail without a newline"},
		{&stringparser.Parser{Chipmunk: true}, []string{"compat/string_parser_chipmunk/string_parser_chipmunk.wasm", "parsers/js_string_parser/js_string_parser.wasm"}, "21\x04tail without a newlin"},
	} {
		want := rowsOf(t, tc.native, input)
		if len(want) < 10000 || want[len(want)-1] != tc.lastRow {
			t.Fatalf("native (Chipmunk %v): %d rows, the last %q; want over 10000 ending in %q", tc.native.Chipmunk, len(want), want[len(want)-1], tc.lastRow)
		}
		for _, fx := range tc.fixtures {
			t.Run(fx, func(t *testing.T) {
				pi := newParser(t, h, fixture(t, fx), nil)
				defer pi.Close()
				got := rowsOf(t, pi, input)
				if len(got) != len(want) {
					t.Fatalf("%d rows, want %d", len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("row %d: got %q, want %q", i, got[i], want[i])
					}
				}
			})
		}
	}
}

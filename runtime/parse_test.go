package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/stringparser"
	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

// genLog makes a deterministic log of about size bytes: lines of 49–185
// characters, some with multi-byte UTF-8; invalid bytes when dirty.
func genLog(size int, dirty bool) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"INFO", "WARN", "ERROR", "net:", "disk", "ünïcødé", "→", "request", "id=42", "took", "3ms", "日本語", "ok"}
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		n := 49 + r.IntN(137)
		start := b.Len()
		fmt.Fprintf(&b, "%08d ", i)
		for b.Len()-start < n {
			b.WriteString(words[r.IntN(len(words))])
			b.WriteByte(' ')
		}
		if dirty && i%97 == 3 {
			b.Write([]byte{0xE0, 0x80, 'x', 0xFF, 0xF0, 0x9F, 0x98})
		}
		if i%13 == 0 {
			b.WriteByte('\r')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

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

// TestStringParserAgrees parses the same dirty 2 MB log with the native Go
// string_parser and the C and JavaScript plugin builds, through the driver:
// all rows must be identical.
func TestStringParserAgrees(t *testing.T) {
	h := newTestHost(t, nil)
	input := genLog(2<<20, true)
	want := rowsOf(t, &stringparser.Parser{}, input)
	if len(want) < 10000 {
		t.Fatalf("only %d rows generated", len(want))
	}
	for _, fx := range []string{"parsers/string_parser/string_parser.wasm", "parsers/js_string_parser/js_string_parser.wasm"} {
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

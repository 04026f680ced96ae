package driver_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/stringparser"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// recorder wraps a parser and keeps a copy of every window it is handed.
type recorder struct {
	p       driver.Parser
	windows []string
}

func (r *recorder) Parse(ctx context.Context, data []byte, ts *uint64) ([]runtime.Item, error) {
	r.windows = append(r.windows, string(data))
	return r.p.Parse(ctx, data, ts)
}

// lineColumn returns the rows' line, or their last column.
func lineColumn(t *testing.T, p driver.Parser, src driver.Source, opts *driver.Options) ([]string, driver.Stats) {
	t.Helper()
	var rows []string
	stats, err := driver.Run(context.Background(), src, p, driver.SinkFunc(func(_ context.Context, rs []driver.Row) error {
		for _, r := range rs {
			m := r.Item.Message
			if len(m.Columns) > 0 {
				rows = append(rows, strings.Clone(m.Columns[len(m.Columns)-1]))
			} else {
				rows = append(rows, strings.Clone(m.Line))
			}
		}
		return nil
	}), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rows, stats
}

func readerOf(s string) driver.Source { return &driver.ReaderSource{R: strings.NewReader(s)} }

// TestRepeatCall: a parser that answers incomplete when no more input can
// come is called once more with exactly the same bytes; the cut-independent
// string_parser then gives its unterminated tail as a row. The old driver
// skipped the tail byte by byte ("cc", then "c": the row was lost).
func TestRepeatCall(t *testing.T) {
	rec := &recorder{p: &stringparser.Parser{}}
	rows, stats := lineColumn(t, rec, readerOf("a\nbb\ncc"), nil)
	if strings.Join(rows, "|") != "a|bb|cc" {
		t.Fatalf("rows %q, want a, bb, cc", rows)
	}
	if want := []string{"a\nbb\ncc", "cc", "cc"}; strings.Join(rec.windows, "|") != strings.Join(want, "|") {
		t.Fatalf("windows %q, want %q", rec.windows, want)
	}
	checkAccounting(t, stats, 7)
}

// TestRepeatCallAnsweredIncomplete: a parser that answers incomplete to the
// repeat call too skips a byte, as before, and every byte is accounted for;
// each skipped byte costs the call and its repeat.
func TestRepeatCallAnsweredIncomplete(t *testing.T) {
	p := &lengthParser{}
	in := append(record(3), record(50)[:3]...)
	lines, stats, err := collect(t, &driver.ReaderSource{R: bytes.NewReader(in)}, p, nil)
	if err != nil || len(lines) != 1 {
		t.Fatalf("%v, %d rows", err, len(lines))
	}
	if want := []int{10, 3, 3, 2, 2, 1, 1}; fmt.Sprint(p.windows) != fmt.Sprint(want) {
		t.Fatalf("windows %v, want %v", p.windows, want)
	}
	if stats.SkippedBytes != 3 || stats.CutDependentRows != 0 {
		t.Errorf("skipped %d, cut-dependent %d; want 3 and 0", stats.SkippedBytes, stats.CutDependentRows)
	}
	checkAccounting(t, stats, len(in))
}

// edgesOptions gives 16 KiB windows, so that a few lines cross one.
var edgesOptions = &driver.Options{InitialChunk: 16 << 10, MinChunk: 16 << 10, MaxChunk: 16 << 10}

// TestRowAtTheCutIsParsedAgain: the Chipmunk-faithful string_parser emits
// a line cut by the window's end as a row (without its last byte); the
// driver holds that row back, parses again from its start with a window
// that reaches past the cut, emits the re-parsed row and counts the
// difference. A line that ends exactly at the cut is parsed again too, and
// not counted. The rows equal the text parser's. The old driver emitted
// the split line as two rows, one byte short.
func TestRowAtTheCutIsParsedAgain(t *testing.T) {
	const window = 16 << 10
	lineAt := func(n int) string { return strings.Repeat("é", (n-1)/2) + strings.Repeat("x", (n-1)%2) + "\n" }
	tests := []struct {
		name    string
		input   string
		counted uint64
	}{
		{"a line straddles the cut", lineAt(window-10) + lineAt(100) + "last\n", 1},
		{"a line ends at the cut", lineAt(window-100) + lineAt(100) + lineAt(200) + "last\n", 0},
		{"a multi-byte character straddles the cut", lineAt(window-1001) + strings.Repeat("é", 1000) + "\nlast\n", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := lineColumn(t, &driver.TextParser{}, readerOf(tc.input), edgesOptions)
			rec := &recorder{p: &stringparser.Parser{Chipmunk: true}}
			got, stats := lineColumn(t, rec, readerOf(tc.input), edgesOptions)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%d rows differ from the text parser's %d", len(got), len(want))
			}
			if stats.CutDependentRows != tc.counted {
				t.Errorf("cut-dependent rows %d, want %d", stats.CutDependentRows, tc.counted)
			}
			if len(rec.windows) < 2 || len(rec.windows[0]) != window {
				t.Fatalf("windows of %d bytes, want a first one of %d", len(rec.windows[0]), window)
			}
			// The second call starts where the held-back row started.
			first := rec.windows[0]
			held := first[strings.LastIndexByte(first[:len(first)-1], '\n')+1:]
			if !strings.HasPrefix(rec.windows[1], held) || len(rec.windows[1]) <= len(held) {
				t.Errorf("the second window does not start with the held-back row and reach past the cut")
			}
			checkAccounting(t, stats, len(tc.input))

			// The cut-independent build gives the same rows and counts nothing.
			got, stats = lineColumn(t, &stringparser.Parser{}, readerOf(tc.input), edgesOptions)
			if strings.Join(got, "\n") != strings.Join(want, "\n") || stats.CutDependentRows != 0 {
				t.Errorf("cut-independent string_parser: %d rows, %d cut-dependent; want the text parser's %d and 0", len(got), stats.CutDependentRows, len(want))
			}
		})
	}
}

// TestItemFillingTheLargestWindow: an item that fills a whole window of
// MaxChunk cannot be parsed again past the cut: it is emitted as it is and
// counted. The cut-independent string_parser gets there through the repeat
// call (its line has no newline within the window).
func TestItemFillingTheLargestWindow(t *testing.T) {
	const window = 16 << 10
	in := strings.Repeat("x", 2*window+100) + "\nshort\n"
	for _, p := range []*stringparser.Parser{{Chipmunk: true}, {}} {
		rows, stats := lineColumn(t, p, readerOf(in), edgesOptions)
		if len(rows) != 4 || rows[3] != "short" || stats.CutDependentRows != 2 {
			t.Errorf("Chipmunk %v: %d rows, cut-dependent %d; want 4 rows (3 pieces of the long line, then short) and 2", p.Chipmunk, len(rows), stats.CutDependentRows)
		}
		checkAccounting(t, stats, len(in))
	}
}

// TestShortReadIsNotACut: a window that ends where the bytes in hand end (a
// pipe delivering a few bytes at a time) is parsed as it is: the faithful
// string_parser splits lines there, as in Chipmunk, and nothing is held
// back or counted (holding back would delay every streamed row).
func TestShortReadIsNotACut(t *testing.T) {
	rows, stats := lineColumn(t, &stringparser.Parser{Chipmunk: true}, &driver.ReaderSource{R: &trickleReader{data: []byte("abcdef\n"), n: 4}}, nil)
	if strings.Join(rows, "|") != "abc|ef" || stats.CutDependentRows != 0 {
		t.Fatalf("rows %q, cut-dependent %d; want abc|ef and 0", rows, stats.CutDependentRows)
	}
}

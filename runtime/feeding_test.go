package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/internal/loggen"
	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

// runRows runs p over input through the driver and returns the rows (lines,
// or columns joined with \x04) and the stats.
func runRows(t *testing.T, p driver.Parser, input []byte, opts *driver.Options) ([]string, driver.Stats, error) {
	t.Helper()
	var rows []string
	stats, err := driver.Run(context.Background(), &driver.ReaderSource{R: bytes.NewReader(input)}, p, driver.SinkFunc(func(_ context.Context, rs []driver.Row) error {
		for _, r := range rs {
			switch m := r.Item.Message; {
			case m == nil:
				rows = append(rows, "attachment "+r.Item.Attachment.Name)
			case m.Columns != nil:
				rows = append(rows, strings.Join(m.Columns, "\x04"))
			default:
				rows = append(rows, strings.Clone(m.Line)) // may point into the plugin's memory
			}
		}
		return nil
	}), opts)
	return rows, stats, err
}

func lossy(on bool) map[string]schema.Value {
	return map[string]schema.Value{"lossy": {Type: schema.Boolean, Bool: on}}
}

// TestConsumedBeyondTheInputIsAnABIError: a plugin whose items claim more
// bytes than it was given, through u64 overflow ([u64::MAX, 1], which used to
// sum to 0 and end the run with a misleading "no progress") or in all (which
// used to be clamped silently), fails with an abi error naming the plugin,
// the item and the values, and no row is emitted.
func TestConsumedBeyondTheInputIsAnABIError(t *testing.T) {
	h := newTestHost(t, nil)
	tests := []struct{ mode, detail string }{
		{"consumed-overflow", "item 0 of 2 consumed 18446744073709551615 bytes, but only 12 of the 12-byte input were left"},
		{"consumed-too-much", "item 1 of 2 consumed 12 bytes, but only 11 of the 12-byte input were left (the items before it consumed 1)"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			pi, err := hostileParser(t, h, tc.mode)
			if err != nil {
				t.Fatal(err)
			}
			defer pi.Close()
			rows, stats, err := runRows(t, pi, []byte("line one\nx\n"+"y"), nil)
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindABI || e.Plugin != "hostile" || e.Op != "parse" || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("got %v, want an abi error of plugin hostile mentioning %q", err, tc.detail)
			}
			if len(rows) != 0 || stats.Consumed != 0 {
				t.Errorf("%d rows, %d bytes consumed: want none", len(rows), stats.Consumed)
			}
		})
	}
}

// TestPluginRowsAreCut: rows a plugin returns longer than the maximum row
// size are cut to it and counted, whatever their shape (hostile's line,
// string_parser's columns, go_records' attachment name, which keeps its room
// before the date); the rows around
// them are intact and every byte is accounted for.
func TestPluginRowsAreCut(t *testing.T) {
	const max = driver.DefaultMaxRowBytes
	long := strings.Repeat("L", 200<<10)
	h := newTestHost(t, nil)
	tests := []struct {
		name   string
		parser *ParserInstance
		input  string
		want   []string
	}{
		{"hostile line", mustHostile(t, h, "ok"), "short\n" + long + "\nend\n", []string{"short", long[:max], "end"}},
		{"string_parser columns", newParser(t, h, fixture(t, "parsers/string_parser/string_parser.wasm"), lossy(true)),
			"short\n" + long + "\nend\n", []string{"5\x04short", "204800\x04" + long[:max-6], "3\x04end"}},
		{"go_records attachment name", newParser(t, h, fixture(t, "parsers/go_records/go_records.wasm"), nil),
			"line|short\nattach|" + long + "|eHl6\nline|end\n", []string{"short", "attachment " + long[:max], "end"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer tc.parser.Close()
			rows, stats, err := runRows(t, tc.parser, []byte(tc.input), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tc.want) {
				t.Fatalf("got %d rows, want %d", len(rows), len(tc.want))
			}
			for i := range rows {
				if rows[i] != tc.want[i] {
					t.Errorf("row %d: %d bytes %.40q…, want %d bytes %.40q…", i, len(rows[i]), rows[i], len(tc.want[i]), tc.want[i])
				}
			}
			if stats.TruncatedRows != 1 {
				t.Errorf("truncated rows %d, want 1", stats.TruncatedRows)
			}
			checkAccounting(t, stats, len(tc.input))
		})
	}
}

func mustHostile(t *testing.T, h *Host, mode string) *ParserInstance {
	t.Helper()
	pi, err := hostileParser(t, h, mode)
	if err != nil {
		t.Fatal(err)
	}
	return pi
}

// checkAccounting asserts the invariant of a run that ended normally: the
// whole input was read, and every byte consumed by a row or skipped.
func checkAccounting(t *testing.T, stats driver.Stats, input int) {
	t.Helper()
	if stats.Bytes != uint64(input) || stats.Consumed+stats.SkippedBytes != stats.Bytes {
		t.Errorf("read %d of %d bytes, consumed %d + skipped %d = %d", stats.Bytes, input, stats.Consumed, stats.SkippedBytes, stats.Consumed+stats.SkippedBytes)
	}
}

// TestAccountingInvariant runs every committed parser fixture and the
// built-in text parser over inputs with garbage, long lines and a truncated
// tail: each run ends done with consumed + skipped = read = the input.
func TestAccountingInvariant(t *testing.T) {
	h := newTestHost(t, nil)
	// Longer than a row, and than the first windows. Not all multi-byte:
	// string_parser (strict) fails on a window that ends inside a line of
	// multi-byte characters, which makes the test slow, not wrong.
	long := strings.Repeat("é", 100) + strings.Repeat("L", 150<<10)
	garbage := "\xff\xfe\x80 no separator here \xc3\n"
	text := "one\r\n" + garbage + long + "\n" + garbage + "two\n" + "tail without newline"
	records := "line|one\ncols|a,b\n" + garbage + "skip|x\nline|" + long + "\n" + garbage + "line|two\nline|tail"
	parsers := []struct {
		name  string
		new   func() driver.Parser
		input string
	}{
		{"text", func() driver.Parser { return &driver.TextParser{} }, text},
		{"string_parser lossy", func() driver.Parser {
			return newParser(t, h, fixture(t, "parsers/string_parser/string_parser.wasm"), lossy(true))
		}, text},
		{"string_parser strict", func() driver.Parser {
			return newParser(t, h, fixture(t, "parsers/string_parser/string_parser.wasm"), lossy(false))
		}, text},
		{"string_parser core module", func() driver.Parser {
			return newParser(t, h, fixture(t, "core/string_parser.core.wasm"), lossy(false))
		}, text},
		{"js_string_parser", func() driver.Parser {
			return newParser(t, h, fixture(t, "parsers/js_string_parser/js_string_parser.wasm"), lossy(false))
		}, text},
		{"go_records", func() driver.Parser {
			return newParser(t, h, fixture(t, "parsers/go_records/go_records.wasm"), nil)
		}, records},
		{"hostile ok", func() driver.Parser { return mustHostile(t, h, "ok") }, strings.ToValidUTF8(text, "?")}, // it returns views of its input: valid UTF-8 only
	}
	for _, tc := range parsers {
		for _, chunk := range []int{10 << 20, 16 << 10} { // Chipmunk's first window, and a small one
			t.Run(fmt.Sprintf("%s/first window %d", tc.name, chunk), func(t *testing.T) {
				p := tc.new()
				if c, ok := p.(interface{ Close() }); ok {
					defer c.Close()
				}
				_, stats, err := runRows(t, p, []byte(tc.input), &driver.Options{InitialChunk: chunk})
				if err != nil {
					t.Fatal(err)
				}
				checkAccounting(t, stats, len(tc.input))
			})
		}
	}
}

// TestFailingPluginIsBounded: a real plugin that fails on every byte of a
// long region (the Chipmunk-faithful string_parser, lossy=false, on invalid
// UTF-8 without a newline: err(parse); hostile "ok" on input without a
// newline: err(incomplete) at the end of the input; the cut-independent
// string_parser, lossy=false, on invalid UTF-8 without a newline:
// err(incomplete), then err(parse) on the repeat call) is called once per
// byte (twice with the repeat call), but only the first
// driver.FullWindowFailures failures get the whole window: the bytes handed
// over grow linearly with the input, not quadratically (the old driver
// handed over 45 GB for 300 KB, about 150 KB per byte). With a failure limit
// the run stops with ErrTooManyFailures naming the plugin.
func TestFailingPluginIsBounded(t *testing.T) {
	h := newTestHost(t, nil)
	const size = 300_000
	invalid := bytes.Repeat([]byte{0xff}, size)
	noNewline := bytes.Repeat([]byte{'a'}, size)
	window := uint64(size) // all of it fits the first window
	bound := driver.FullWindowFailures*window + (size-driver.FullWindowFailures)*driver.ResyncWindow + 64*window
	// The repeat call hands the whole window over once more per failure,
	// until the resync.
	boundRepeat := bound + driver.FullWindowFailures*window
	t.Run("parse errors", func(t *testing.T) {
		p := newParser(t, h, fixture(t, "compat/string_parser_chipmunk/string_parser_chipmunk.wasm"), lossy(false))
		defer p.Close()
		rows, stats, err := runRows(t, p, invalid, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The last byte alone is an empty line (the faithful string_parser
		// drops the last byte of a line without a newline).
		if len(rows) != 1 || stats.ParseErrors != size-1 || stats.SkippedBytes != size-1 {
			t.Errorf("%d rows, %d parse errors, %d skipped", len(rows), stats.ParseErrors, stats.SkippedBytes)
		}
		if stats.Copied > bound || stats.Calls > size+64 {
			t.Errorf("%d calls handed over %d bytes (%d per byte), want at most %d", stats.Calls, stats.Copied, stats.Copied/size, bound)
		}
		checkAccounting(t, stats, size)
	})
	t.Run("incomplete", func(t *testing.T) {
		p := mustHostile(t, h, "ok")
		defer p.Close()
		rows, stats, err := runRows(t, p, noNewline, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 0 || stats.SkippedBytes != size {
			t.Errorf("%d rows, %d skipped", len(rows), stats.SkippedBytes)
		}
		if stats.Copied > boundRepeat || stats.Calls > size+driver.FullWindowFailures+64 {
			t.Errorf("%d calls handed over %d bytes (%d per byte), want at most %d", stats.Calls, stats.Copied, stats.Copied/size, boundRepeat)
		}
		checkAccounting(t, stats, size)
	})
	t.Run("incomplete then parse errors", func(t *testing.T) {
		p := newParser(t, h, fixture(t, "parsers/string_parser/string_parser.wasm"), lossy(false))
		defer p.Close()
		rows, stats, err := runRows(t, p, invalid, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Parse errors on the repeat calls until the resync; then
		// incomplete answers, as there is no repeat call while resyncing.
		if len(rows) != 0 || stats.ParseErrors != driver.FullWindowFailures || stats.SkippedBytes != size {
			t.Errorf("%d rows, %d parse errors, %d skipped", len(rows), stats.ParseErrors, stats.SkippedBytes)
		}
		if stats.Copied > boundRepeat || stats.Calls > size+driver.FullWindowFailures+64 {
			t.Errorf("%d calls handed over %d bytes (%d per byte), want at most %d", stats.Calls, stats.Copied, stats.Copied/size, boundRepeat)
		}
		checkAccounting(t, stats, size)
	})
	t.Run("limit", func(t *testing.T) {
		p := mustHostile(t, h, "ok")
		defer p.Close()
		const limit = driver.FullWindowFailures + 1000
		_, stats, err := runRows(t, p, noNewline, &driver.Options{MaxFailures: limit})
		var e *Error
		if !errors.Is(err, driver.ErrTooManyFailures) || !errors.As(err, &e) || e.Plugin != "hostile" || e.Code != "incomplete" {
			t.Fatalf("got %v, want ErrTooManyFailures wrapping hostile's incomplete", err)
		}
		if stats.SkippedBytes != limit {
			t.Errorf("skipped %d bytes, want %d", stats.SkippedBytes, limit)
		}
	})
}

// TestRepeatCallWithPlugins: at the end of the input, a plugin that answers
// incomplete is called once more with the same bytes. The cut-independent
// string_parser then gives its unterminated tail as a row; hostile "ok",
// which answers incomplete again, has the tail skipped byte by byte (each
// byte costs the call and its repeat) and every byte accounted for. The old
// driver made no repeat call: string_parser lost its tail.
func TestRepeatCallWithPlugins(t *testing.T) {
	h := newTestHost(t, nil)
	in := []byte("one\ntwo\ntail")
	sp := newParser(t, h, fixture(t, "parsers/string_parser/string_parser.wasm"), nil)
	defer sp.Close()
	rows, stats, err := runRows(t, sp, in, nil)
	if err != nil || strings.Join(rows, "|") != "3\x04one|3\x04two|4\x04tail" || stats.Calls != 3 {
		t.Fatalf("string_parser: %v, rows %q in %d calls; want one, two, tail in 3 (the last the repeat call)", err, rows, stats.Calls)
	}
	checkAccounting(t, stats, len(in))

	ho := mustHostile(t, h, "ok")
	defer ho.Close()
	rows, stats, err = runRows(t, ho, in, nil)
	if err != nil || strings.Join(rows, "|") != "one|two" {
		t.Fatalf("hostile: %v, rows %q; want one, two", err, rows)
	}
	if stats.SkippedBytes != 4 || stats.Calls != 2+2*4 {
		t.Errorf("hostile: skipped %d bytes in %d calls; want 4 in %d", stats.SkippedBytes, stats.Calls, 2+2*4)
	}
	checkAccounting(t, stats, len(in))
}

// TestRowsDoNotDependOnTheCut: on a file larger than two 10 MiB windows
// whose lines cross the places where the driver cuts the input (one ends
// exactly at the first cut, a 3-byte character straddles the second), the
// cut-independent string_parser gives the text parser's rows and counts
// nothing; the Chipmunk-faithful build, which emits a cut line at once,
// gives them too, because the driver parses again past the cut, and it
// counts the one line that came out different. The old driver emitted that
// line in two pieces, one byte lost.
func TestRowsDoNotDependOnTheCut(t *testing.T) {
	const window = 10 << 20
	data, cut2 := loggen.Edges(25<<20, window)
	if data[window-1] != '\n' || !bytes.HasPrefix(data[cut2-1:], []byte("日")) || len(data) <= 2*window {
		t.Fatalf("the generated log is not laid out against the cuts")
	}
	path := filepath.Join(t.TempDir(), "edges.log")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	fileRows := func(p driver.Parser) ([]string, driver.Stats) {
		src, err := driver.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		var rows []string
		stats, err := driver.Run(context.Background(), src, p, driver.SinkFunc(func(_ context.Context, rs []driver.Row) error {
			for _, r := range rs {
				m := r.Item.Message
				if len(m.Columns) == 2 {
					rows = append(rows, strings.Clone(m.Columns[1]))
				} else {
					rows = append(rows, m.Line)
				}
			}
			return nil
		}), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkAccounting(t, stats, len(data))
		return rows, stats
	}
	want, _ := fileRows(&driver.TextParser{})
	h := newTestHost(t, nil)
	for _, tc := range []struct {
		fixture string
		counted uint64
	}{
		{"parsers/string_parser/string_parser.wasm", 0},
		{"compat/string_parser_chipmunk/string_parser_chipmunk.wasm", 1},
	} {
		t.Run(filepath.Base(tc.fixture), func(t *testing.T) {
			p := newParser(t, h, fixture(t, tc.fixture), nil)
			defer p.Close()
			got, stats := fileRows(p)
			if len(got) != len(want) {
				t.Fatalf("%d rows, want the text parser's %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("row %d: got %q, want %q", i, got[i], want[i])
				}
			}
			if stats.CutDependentRows != tc.counted || stats.MaxChunk != window {
				t.Errorf("%d cut-dependent rows with windows up to %d bytes; want %d and %d", stats.CutDependentRows, stats.MaxChunk, tc.counted, window)
			}
		})
	}
}

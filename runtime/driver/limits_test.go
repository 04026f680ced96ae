package driver_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// checkAccounting asserts the invariant of a run that ended normally: every
// byte read was consumed by a row or skipped, and the whole input was read.
func checkAccounting(t *testing.T, stats driver.Stats, input int) {
	t.Helper()
	if stats.Consumed+stats.SkippedBytes != stats.Bytes || stats.Bytes != uint64(input) {
		t.Errorf("read %d of %d bytes, consumed %d + skipped %d = %d", stats.Bytes, input, stats.Consumed, stats.SkippedBytes, stats.Consumed+stats.SkippedBytes)
	}
}

// TestTextLongLineDoesNotEndTheRun: a line longer than the largest window
// (10 MiB) used to end the run as done after it, dropping everything that
// followed. Now it is one row cut to the maximum row size, the rest of the
// line is skipped, and the lines after it are parsed.
func TestTextLongLineDoesNotEndTheRun(t *testing.T) {
	long := strings.Repeat("A", 11<<20)
	in := "first\n" + long + "\nlast\n"
	path := filepath.Join(t.TempDir(), "long.log")
	if err := os.WriteFile(path, []byte(in), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := driver.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	lines, stats, err := collect(t, src, &driver.TextParser{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[0] != "first" || lines[1] != long[:driver.DefaultMaxRowBytes] || lines[2] != "last" {
		t.Fatalf("got %d rows of %d bytes, want first, %d A's, last", len(lines), lens(lines), driver.DefaultMaxRowBytes)
	}
	if stats.TruncatedRows != 1 {
		t.Errorf("truncated rows %d, want 1", stats.TruncatedRows)
	}
	checkAccounting(t, stats, len(in))
}

// TestTextEndlessLine: 60 MiB of /dev/zero (no newline) used to give one
// 10 MiB row and stop, done, after reading 10 MiB. Now every byte is read,
// the one row is cut to the maximum row size and the rest is skipped.
func TestTextEndlessLine(t *testing.T) {
	zero, err := os.Open("/dev/zero")
	if err != nil {
		t.Skipf("no /dev/zero on this system: %v", err)
	}
	defer zero.Close()
	const size = 60 << 20
	lines, stats, err := collect(t, &driver.ReaderSource{R: io.LimitReader(zero, size)}, &driver.TextParser{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || len(lines[0]) != driver.DefaultMaxRowBytes {
		t.Fatalf("got %d rows of %v bytes, want one of %d", len(lines), lens(lines), driver.DefaultMaxRowBytes)
	}
	if stats.TruncatedRows != 1 {
		t.Errorf("truncated rows %d, want 1", stats.TruncatedRows)
	}
	checkAccounting(t, stats, size)
}

// TestTextRowSizes checks the cut around the limit over a trickling stream:
// a line of exactly the maximum is kept whole, one byte more is cut, a
// multi-byte character across the cut is not split, and \r\n does not count.
func TestTextRowSizes(t *testing.T) {
	const max = driver.DefaultMaxRowBytes
	exact := strings.Repeat("e", max)
	over := strings.Repeat("o", max+1)
	utf := strings.Repeat("u", max-1) + "é" // é straddles the cut
	in := exact + "\r\n" + over + "\n" + utf + "\n" + "tail"
	lines, stats, err := collect(t, &driver.ReaderSource{R: &trickleReader{data: []byte(in), n: 5000}}, &driver.TextParser{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{exact, over[:max], utf[:max-1], "tail"}
	if len(lines) != len(want) {
		t.Fatalf("got %d rows %v, want %d", len(lines), lens(lines), len(want))
	}
	for i := range want {
		if lines[i] != want[i] || !utf8.ValidString(lines[i]) {
			t.Errorf("row %d: %d bytes, want %d", i, len(lines[i]), len(want[i]))
		}
	}
	if stats.TruncatedRows != 2 {
		t.Errorf("truncated rows %d, want 2", stats.TruncatedRows)
	}
	checkAccounting(t, stats, len(in))
}

func lens(lines []string) []int {
	n := make([]int, len(lines))
	for i, l := range lines {
		n[i] = len(l)
	}
	return n
}

// itemsParser returns the same items on every call, then err(eof) once they
// have been consumed.
type itemsParser struct {
	items []runtime.Item
	calls int
}

func (p *itemsParser) Parse(ctx context.Context, data []byte, _ *uint64) ([]runtime.Item, error) {
	p.calls++
	if p.calls > 1 {
		return nil, &runtime.Error{Kind: runtime.KindPluginError, Code: "eof"}
	}
	return p.items, nil
}

// TestRowsAreCutToTheMaximum: rows of any shape (line, columns, attachment
// name and dates, message list) carry at most MaxRowBytes of text and
// MaxAttachmentMessages indexes, counted in TruncatedRows; the parser's own
// items are not modified.
func TestRowsAreCutToTheMaximum(t *testing.T) {
	const max = driver.DefaultMaxRowBytes
	big := strings.Repeat("x", max+10)
	date := "2024-01-01"
	att := &runtime.Attachment{Name: "a.bin", CreatedDate: &date, Messages: make([]uint64, driver.MaxAttachmentMessages+1)}
	items := []runtime.Item{
		{Consumed: 1, Message: &runtime.Message{Line: big}},
		{Consumed: 1, Message: &runtime.Message{Columns: []string{"12", big, "z"}}},
		{Consumed: 1, Message: &runtime.Message{Line: "small"}, Attachment: att},
		{Consumed: 1, Message: &runtime.Message{Line: big}, Attachment: &runtime.Attachment{Name: big, CreatedDate: &date}},
		{Consumed: 1, Message: &runtime.Message{Line: strings.Repeat("y", max)}},
	}
	var rows []runtime.Item
	stats, err := driver.Run(context.Background(), &driver.ReaderSource{R: strings.NewReader("12345")}, &itemsParser{items: items},
		driver.SinkFunc(func(_ context.Context, rs []driver.Row) error {
			for _, r := range rs {
				rows = append(rows, *r.Item)
			}
			return nil
		}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || stats.TruncatedRows != 4 {
		t.Fatalf("%d rows, %d truncated; want 5 and 4", len(rows), stats.TruncatedRows)
	}
	if got := rows[0].Message.Line; got != big[:max] {
		t.Errorf("line cut to %d bytes, want %d", len(got), max)
	}
	if c := rows[1].Message.Columns; len(c) != 3 || c[0] != "12" || len(c[1]) != max-2 || c[2] != "" {
		t.Errorf("columns cut to %v bytes, want [2 %d 0]", lens(c), max-2)
	}
	if a := rows[2].Attachment; len(a.Messages) != driver.MaxAttachmentMessages || a.Name != "a.bin" || rows[2].Message.Line != "small" {
		t.Errorf("attachment with %d messages, name %q", len(a.Messages), a.Name)
	}
	if a := rows[3].Attachment; len(a.Name) != max || *a.CreatedDate != "" || rows[3].Message.Line != "" {
		t.Errorf("attachment name cut to %d bytes, date %q, line %d bytes: the name comes first", len(a.Name), *a.CreatedDate, len(rows[3].Message.Line))
	}
	if len(rows[4].Message.Line) != max {
		t.Errorf("a row of exactly the maximum was cut to %d", len(rows[4].Message.Line))
	}
	if items[0].Message.Line != big || len(att.Messages) != driver.MaxAttachmentMessages+1 {
		t.Error("the parser's items were modified")
	}
	checkAccounting(t, stats, 5)
}

// TestEOFAccountsForTheRest: when the parser says eof, the bytes read and
// not consumed are counted as skipped (they used to be counted nowhere).
func TestEOFAccountsForTheRest(t *testing.T) {
	p := &itemsParser{items: []runtime.Item{{Consumed: 2, Message: &runtime.Message{Line: "12"}}}}
	lines, stats, err := collect(t, &driver.ReaderSource{R: strings.NewReader("12345")}, p, nil)
	if err != nil || len(lines) != 1 {
		t.Fatalf("%v, %d rows", err, len(lines))
	}
	if stats.Consumed != 2 || stats.SkippedBytes != 3 {
		t.Errorf("consumed %d, skipped %d; want 2 and 3", stats.Consumed, stats.SkippedBytes)
	}
	checkAccounting(t, stats, 5)
}

// TestConsumedBeyondTheInput: items that claim more bytes than they were
// given, in all or through u64 overflow, end the run with an abi error that
// names the item and its values; no row is emitted. The driver used to clamp
// the count silently, and [u64::MAX, 1] summed to 0 ("no progress").
func TestConsumedBeyondTheInput(t *testing.T) {
	line := &runtime.Message{Line: "row"}
	tests := []struct {
		name     string
		consumed []uint64
		detail   string
	}{
		{"overflow", []uint64{^uint64(0), 1}, "item 0 of 2 consumed 18446744073709551615 bytes, but only 5 of the 5-byte input were left"},
		{"too much", []uint64{2, 4}, "item 1 of 2 consumed 4 bytes, but only 3 of the 5-byte input were left (the items before it consumed 2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var items []runtime.Item
			for _, c := range tc.consumed {
				items = append(items, runtime.Item{Consumed: c, Message: line})
			}
			lines, _, err := collect(t, &driver.ReaderSource{R: strings.NewReader("12345")}, &itemsParser{items: items}, nil)
			if runtime.KindOf(err) != runtime.KindABI || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("got %v, want an abi error mentioning %q", err, tc.detail)
			}
			if len(lines) != 0 {
				t.Errorf("%d rows emitted", len(lines))
			}
		})
	}
}

// failingParser fails on every call with the given code, and records the
// size of every window it is handed.
type failingParser struct {
	code    string
	windows []int
}

func (p *failingParser) Parse(ctx context.Context, data []byte, _ *uint64) ([]runtime.Item, error) {
	p.windows = append(p.windows, len(data))
	return nil, &runtime.Error{Kind: runtime.KindPluginError, Code: p.code}
}

// TestFailingParserIsStopped: a parser that answers err(parse) or
// err(incomplete) on every byte is stopped after DefaultMaxFailures
// consecutive failures with ErrTooManyFailures wrapping its error; each
// skipped byte costs one call (two for the first FullWindowFailures
// incomplete answers: the repeat call at the end of the input gets the same
// bytes once more), and after the first FullWindowFailures each call is
// handed ResyncWindow bytes instead of the whole window. The old driver
// handed over the whole rest of the input for every byte and never stopped.
// The input is all zeros, so a window one byte further holds the same bytes
// as the one before: after an incomplete answer, every other window is one
// byte shorter, so that only the repeat call hands over the bytes the parser
// answered incomplete for.
func TestFailingParserIsStopped(t *testing.T) {
	for _, code := range []string{"parse", "incomplete"} {
		t.Run(code, func(t *testing.T) {
			const size = driver.DefaultMaxFailures + 100<<10
			p := &failingParser{code: code}
			_, stats, err := collect(t, &driver.ReaderSource{R: bytes.NewReader(make([]byte, size))}, p, nil)
			if !errors.Is(err, driver.ErrTooManyFailures) || runtime.PluginErrorCode(err) != code {
				t.Fatalf("got %v, want ErrTooManyFailures wrapping the parser's %s error", err, code)
			}
			// The windows handed over, one per skipped byte, each twice
			// when it gets the repeat call.
			var want []int
			for i := 0; i < driver.DefaultMaxFailures; i++ {
				switch {
				case i >= driver.FullWindowFailures && code == "incomplete" && (i-driver.FullWindowFailures)%2 == 1:
					want = append(want, driver.ResyncWindow-1)
				case i >= driver.FullWindowFailures:
					want = append(want, driver.ResyncWindow)
				case code == "incomplete":
					want = append(want, size-i, size-i)
				default:
					want = append(want, size-i)
				}
			}
			if stats.SkippedBytes != driver.DefaultMaxFailures || len(p.windows) != len(want) {
				t.Fatalf("skipped %d bytes in %d calls, want %d in %d", stats.SkippedBytes, len(p.windows), driver.DefaultMaxFailures, len(want))
			}
			for i, w := range p.windows {
				if w != want[i] {
					t.Fatalf("call %d was handed %d bytes, want %d (the whole window, as Chipmunk, for the first %d failures, then %d or one byte less)",
						i, w, want[i], driver.FullWindowFailures, driver.ResyncWindow)
				}
			}
		})
	}
}

// TestRecoveryAfterLongGarbage: a parser that recovers after more than
// FullWindowFailures errors gets every record; the window returns to its
// size before the garbage once it recovers, and grows from ResyncWindow when
// the parser answers incomplete after a parse error (a record larger than
// ResyncWindow right after garbage is not lost).
func TestRecoveryAfterLongGarbage(t *testing.T) {
	const garbage = driver.FullWindowFailures + 1000
	var in bytes.Buffer
	in.Write(record(10))
	in.Write(bytes.Repeat([]byte{0xff}, garbage))
	for i := 0; i < 20; i++ {
		in.Write(record(1000))
	}
	in.Write(bytes.Repeat([]byte{0xff}, garbage))
	in.Write(record(300 << 10))
	for i := 0; i < 5; i++ {
		in.Write(record(1000))
	}
	p := &lengthParser{}
	lines, stats, err := collect(t, &driver.ReaderSource{R: bytes.NewReader(in.Bytes())}, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 27 || lines[21] != "307200 bytes" {
		t.Fatalf("got %d rows, want 27 with the 300 KiB record after the second garbage", len(lines))
	}
	if stats.SkippedBytes != 2*garbage || stats.ParseErrors != 2*garbage {
		t.Errorf("skipped %d bytes, %d parse errors; want %d", stats.SkippedBytes, stats.ParseErrors, 2*garbage)
	}
	checkAccounting(t, stats, in.Len())
	// Call 0 parsed the first record and shrank the window to 16 KiB;
	// calls 1…garbage failed.
	w := p.windows
	for i := 1; i <= garbage; i++ {
		want := 16 << 10 // the window before the garbage, as Chipmunk would keep it
		if i > driver.FullWindowFailures {
			want = driver.ResyncWindow
		}
		if w[i] != want {
			t.Fatalf("failure %d was handed %d bytes, want %d", i, w[i], want)
		}
	}
	if w[garbage+2] != 16<<10 {
		t.Errorf("after recovering, the parser was handed %d bytes, want the window before the garbage (%d)", w[garbage+2], 16<<10)
	}
}

// TestAttachmentLongName: a name longer than a file name may be (a row can
// carry 128 KiB of it) is saved under a cut name instead of failing the run
// with ENAMETOOLONG.
func TestAttachmentLongName(t *testing.T) {
	s := &driver.AttachmentStore{Dir: t.TempDir()}
	name := strings.Repeat("n", driver.DefaultMaxRowBytes) + "." + strings.Repeat("e", 100)
	p, err := s.Save(name, []byte("data"))
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Base(p)
	if len(base) > 255 || !strings.HasPrefix(base, "nnnn") || !strings.Contains(base, ".eee") {
		t.Fatalf("saved as %q (%d bytes)", base, len(base))
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "data" {
		t.Fatalf("%v %q", err, got)
	}
}

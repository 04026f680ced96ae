package driver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/runtime/driver"
)

// flushCounter is a Sink that records the rows' lines and counts flushes.
type flushCounter struct {
	lines   []string
	flushes int
}

func (s *flushCounter) Rows(_ context.Context, rows []driver.Row) error {
	for _, r := range rows {
		s.lines = append(s.lines, r.Item.Message.Line)
	}
	return nil
}

func (s *flushCounter) Flush(context.Context) error {
	s.flushes++
	return nil
}

// TestFullWindows checks the benchmark's comparison switch: over a source
// that returns 4 KiB per read (a pipe), streaming reads parse each read and
// flush before the next, while Options.FullWindows reads the whole input
// (less than a window) before the one parse call and never flushes; both
// give the same rows.
func TestFullWindows(t *testing.T) {
	var in strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&in, "line %d of the trickle\n", i)
	}
	input := in.String()
	run := func(full bool) (*flushCounter, driver.Stats) {
		t.Helper()
		sink := &flushCounter{}
		src := &driver.ReaderSource{R: &trickleReader{data: []byte(input), n: 4 << 10}}
		stats, err := driver.Run(context.Background(), src, &driver.TextParser{}, sink, &driver.Options{FullWindows: full})
		if err != nil {
			t.Fatal(err)
		}
		checkAccounting(t, stats, len(input))
		return sink, stats
	}
	streaming, ss := run(false)
	full, fs := run(true)
	if got, want := strings.Join(full.lines, "\n"), strings.Join(streaming.lines, "\n"); got != want || len(full.lines) != 2000 {
		t.Fatalf("FullWindows gave %d rows, streaming reads %d: rows differ", len(full.lines), len(streaming.lines))
	}
	if fs.Calls != 1 || fs.MaxChunk != len(input) || full.flushes != 0 {
		t.Errorf("FullWindows: %d parse calls, largest window %d, %d flushes; want 1 call of the whole %d-byte input and no flush", fs.Calls, fs.MaxChunk, full.flushes, len(input))
	}
	if ss.Calls < 10 || ss.MaxChunk > 8<<10 || streaming.flushes < 10 {
		t.Errorf("streaming reads: %d parse calls, largest window %d, %d flushes; want a call and a flush per 4 KiB read", ss.Calls, ss.MaxChunk, streaming.flushes)
	}
}

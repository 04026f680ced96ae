package runtime_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
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

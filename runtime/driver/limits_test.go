package driver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

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

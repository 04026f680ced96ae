package runtime_test

import (
	"context"
	"slices"
	"testing"

	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// TestStringEncodingFixtures runs the WAT parser built with
// string-encoding=utf16 and with latin1+utf16 through the public API: the
// prefix goes into the guest lowered in its encoding (Latin-1 when it fits,
// else tagged UTF-16, in the latin1 build), comes back through the log
// import (lifted with the plugin's import encoding) and in every row
// (lifted from the export's result), unchanged.
func TestStringEncodingFixtures(t *testing.T) {
	var logs logCollector
	h := newTestHost(t, &Options{OnLog: logs.add})
	ctx := context.Background()
	for _, fx := range []string{"compat/utf16_lines/utf16_lines.wasm", "compat/latin1_lines/latin1_lines.wasm"} {
		p, err := h.Load(ctx, fixture(t, fx))
		if err != nil {
			t.Fatal(err)
		}
		for _, prefix := range []string{"Ünï ✓ 😀", "café ÿ", "x"} {
			pi, err := p.NewParser(ctx, &InitOptions{Config: []schema.Setting{
				{ID: "prefix", Value: schema.Value{Type: schema.Text, Text: prefix}}}})
			if err != nil {
				t.Fatalf("%s: %v", fx, err)
			}
			if r := logs.find(FromLogImport, prefix); r == nil || r.Message != prefix {
				t.Errorf("%s: log of %q: %+v", fx, prefix, r)
			}
			items, err := pi.Parse(ctx, []byte("caf\xe9 \xff\nzwei"), nil)
			pi.Close()
			if err != nil {
				t.Fatalf("%s: %v", fx, err)
			}
			want := [][]string{{prefix, "café ÿ"}, {prefix, "zwei"}}
			if len(items) != 2 || items[0].Consumed != 7 || items[1].Consumed != 4 {
				t.Fatalf("%s: %d items: %+v", fx, len(items), items)
			}
			for i, it := range items {
				if it.Message == nil || !slices.Equal(it.Message.Columns, want[i]) {
					t.Errorf("%s: item %d: %+v, want columns %q", fx, i, it.Message, want[i])
				}
			}
		}
	}
}

package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	. "github.com/chiphost/chiphost/runtime"
)

// TestGoPluginOOM drives the Go fixture (go_records) out of memory with a
// low memory limit, in both places where its allocator fails: while chiphost
// lowers the 10 MiB input into the guest (its cabi_realloc, 8 MiB limit;
// reported as an "abi" error before the fix) and inside parse (16 MiB). Both
// must be "oom" errors that carry the cause the Go runtime printed to stderr,
// bounded, instead of a wasm stack trace.
func TestGoPluginOOM(t *testing.T) {
	var input bytes.Buffer
	for i := 0; input.Len() < 10<<20; i++ {
		fmt.Fprintf(&input, "line|record number %d with some text\n", i)
	}
	for _, limit := range []uint64{8, 16} {
		t.Run(fmt.Sprintf("%dMiB", limit), func(t *testing.T) {
			h := newTestHost(t, &Options{MemoryLimit: limit << 20})
			p, err := h.Load(context.Background(), fixture(t, "parsers/go_records/go_records.wasm"))
			if err != nil {
				t.Fatal(err)
			}
			pi, err := p.NewParser(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer pi.Close()
			_, err = pi.Parse(context.Background(), input.Bytes()[:10<<20], nil)
			msg := fmt.Sprint(err)
			if KindOf(err) != KindOOM || !strings.Contains(msg, fmt.Sprintf("memory limit of %d MiB reached", limit)) ||
				!strings.Contains(msg, `plugin stderr: "runtime: out of memory: cannot allocate`) {
				t.Fatalf("got %v; want an oom error with the Go runtime's message", err)
			}
			if strings.Contains(msg, "wasm stack trace") || len(msg) > 2048 {
				t.Fatalf("oom error of %d bytes, want the stderr excerpt without the wasm stack trace:\n%s", len(msg), msg)
			}
		})
	}
}

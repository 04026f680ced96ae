package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	. "github.com/chiphost/chiphost/runtime"
)

func wantLimit(t *testing.T, what string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindLimit || e.Code != "memory" || !strings.Contains(e.Error(), "limit for all of them") {
		t.Fatalf("%s: %v; want a limit error with code memory", what, err)
	}
}

// TestTotalMemoryLimit: with room for two instances of hostile (128 KiB of
// memory each), a third is refused with KindLimit (code "memory") before it
// is created; closing one makes room again, and closing all gives every
// byte back to the host's total.
func TestTotalMemoryLimit(t *testing.T) {
	h := newTestHost(t, &Options{MaxTotalMemory: 256 << 10})
	a, err := hostileParser(t, h, "ok")
	if err != nil {
		t.Fatal(err)
	}
	b, err := hostileParser(t, h, "ok")
	if err != nil {
		t.Fatal(err)
	}
	if got := h.GuestMemory(); got != 256<<10 {
		t.Fatalf("two instances hold %d bytes, want %d", got, 256<<10)
	}
	_, err = hostileParser(t, h, "ok")
	wantLimit(t, "third instance", err)
	a.Close()
	c, err := hostileParser(t, h, "ok")
	if err != nil {
		t.Fatalf("instance after closing one: %v", err)
	}
	if _, err := c.Parse(context.Background(), []byte("line\n"), nil); err != nil {
		t.Fatal(err)
	}
	b.Close()
	c.Close()
	if got := h.GuestMemory(); got != 0 {
		t.Fatalf("%d bytes still accounted after closing every instance", got)
	}
}

// TestTotalMemoryStopsGrowth: a plugin that allocates until malloc fails
// (hostile "oom") under a 512 MiB instance cap but a 32 MiB total is
// stopped by the total, reported as KindLimit, and its memory is given back.
func TestTotalMemoryStopsGrowth(t *testing.T) {
	h := newTestHost(t, &Options{MemoryLimit: 512 << 20, MaxTotalMemory: 32 << 20})
	pi, err := hostileParser(t, h, "oom")
	if err != nil {
		t.Fatal(err)
	}
	_, err = pi.Parse(context.Background(), []byte("line\n"), nil)
	wantLimit(t, "parse growing past the total", err)
	if got := h.GuestMemory(); got != 0 {
		t.Fatalf("%d bytes still accounted after the failed instance was discarded", got)
	}
}

// TestInitialMemoryOverLimit: a plugin whose module starts with more memory
// than the instance cap (the Go fixture starts with 2.8 MiB) is refused
// with KindOOM. Before the fix the allocator's refusal made wazero panic,
// which crashed the host.
func TestInitialMemoryOverLimit(t *testing.T) {
	h := newTestHost(t, &Options{MemoryLimit: 1 << 20})
	p, err := h.Load(context.Background(), fixture(t, "parsers/go_records/go_records.wasm"))
	if err == nil {
		_, err = p.NewParser(context.Background(), nil)
	}
	if KindOf(err) != KindOOM || !strings.Contains(err.Error(), "starts with 2.8 MiB of memory, more than the limit of 1 MiB") {
		t.Fatalf("got %v; want oom naming the initial memory and the limit", err)
	}
	if got := h.GuestMemory(); got != 0 {
		t.Fatalf("%d bytes accounted after a refused instance", got)
	}
}

package runtime_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

func hostileParser(t *testing.T, h *Host, mode string) (*ParserInstance, error) {
	t.Helper()
	p, err := h.Load(context.Background(), fixture(t, "hostile/hostile.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := []schema.Setting{{ID: "mode", Value: schema.Value{Type: schema.Dropdown, Text: mode}}}
	return p.NewParser(context.Background(), &InitOptions{Config: cfg})
}

// TestHostilePluginsAreContained checks that every kind of misbehaviour
// becomes a typed error naming the plugin, that the failed instance refuses
// further calls, and that the host keeps serving other instances.
func TestHostilePluginsAreContained(t *testing.T) {
	h := newTestHost(t, &Options{CallTimeout: 1500 * time.Millisecond, MemoryLimit: 64 << 20})
	tests := []struct {
		mode   string
		kind   ErrorKind
		detail string // substring of the error message
		atInit bool
	}{
		{mode: "loop", kind: KindTimeout, detail: "did not finish within 1.5s"},
		{mode: "init-loop", kind: KindTimeout, detail: "did not finish within", atInit: true},
		{mode: "oom", kind: KindOOM, detail: "memory limit of 64 MiB"},
		{mode: "trap", kind: KindTrap, detail: "unreachable"},
		{mode: "bad-pointer", kind: KindABI, detail: "result.ok: list at"},
		{mode: "bad-utf8", kind: KindABI, detail: "UTF-8"},
		{mode: "bad-discriminant", kind: KindABI, detail: "discriminant"},
		{mode: "post-return-import", kind: KindABI, detail: "post-return"},
	}
	for _, tc := range tests {
		t.Run(tc.mode, func(t *testing.T) {
			ctx := context.Background()
			start := time.Now()
			pi, err := hostileParser(t, h, tc.mode)
			if !tc.atInit {
				if err != nil {
					t.Fatalf("init: %v", err)
				}
				_, err = pi.Parse(ctx, []byte("line one\nline two\n"), nil)
			}
			if err == nil {
				t.Fatal("no error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not a *runtime.Error", err, err)
			}
			if e.Kind != tc.kind || e.Plugin != "hostile" || !strings.Contains(err.Error(), tc.detail) {
				t.Fatalf("got kind %q plugin %q: %v; want kind %q mentioning %q", e.Kind, e.Plugin, err, tc.kind, tc.detail)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s to fail", d)
			}
			if pi != nil {
				_, err = pi.Parse(ctx, []byte("again\n"), nil)
				if KindOf(err) != KindClosed {
					t.Errorf("call after failure: got %v, want kind closed", err)
				}
			}
			// The host goes on: a healthy instance of the same plugin works.
			ok, err := hostileParser(t, h, "ok")
			if err != nil {
				t.Fatal(err)
			}
			defer ok.Close()
			items, err := ok.Parse(ctx, []byte("fine\n"), nil)
			if err != nil || len(items) != 1 || items[0].Message.Line != "fine" {
				t.Fatalf("healthy instance after %s: %v %+v", tc.mode, err, items)
			}
		})
	}
}

// TestLoopingPluginBesideHealthySession runs a looping instance and a
// healthy one at the same time: the healthy one finishes unaffected.
func TestLoopingPluginBesideHealthySession(t *testing.T) {
	h := newTestHost(t, &Options{CallTimeout: 2 * time.Second})
	ctx := context.Background()
	loop, err := hostileParser(t, h, "loop")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var loopErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, loopErr = loop.Parse(ctx, []byte("x\n"), nil)
	}()
	good, err := hostileParser(t, h, "ok")
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	var lines []string
	input := strings.Repeat("a line\n", 2000)
	_, err = driver.Run(ctx, &driver.ReaderSource{R: strings.NewReader(input)}, good, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
		for _, r := range rows {
			lines = append(lines, r.Item.Message.Line)
		}
		return nil
	}), nil)
	if err != nil || len(lines) != 2000 {
		t.Fatalf("healthy session: %v, %d lines", err, len(lines))
	}
	wg.Wait()
	if KindOf(loopErr) != KindTimeout {
		t.Fatalf("looping session: got %v, want kind timeout", loopErr)
	}
}

// TestCancelInterruptsRunningCall cancels the context of a looping call.
func TestCancelInterruptsRunningCall(t *testing.T) {
	h := newTestHost(t, &Options{CallTimeout: -1})
	loop, err := hostileParser(t, h, "loop")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = loop.Parse(ctx, []byte("x\n"), nil)
	if KindOf(err) != KindCancelled {
		t.Fatalf("got %v, want kind cancelled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("cancellation took %s", d)
	}
}

// TestZeroConsumedDoesNotSpin: Chipmunk spins forever on a plugin that
// consumes nothing; the driver stops with ErrNoProgress.
func TestZeroConsumedDoesNotSpin(t *testing.T) {
	h := newTestHost(t, nil)
	pi, err := hostileParser(t, h, "zero-consumed")
	if err != nil {
		t.Fatal(err)
	}
	defer pi.Close()
	rows := 0
	stats, err := driver.Run(context.Background(), &driver.ReaderSource{R: strings.NewReader(strings.Repeat("z\n", 100))}, pi,
		driver.SinkFunc(func(_ context.Context, r []driver.Row) error { rows += len(r); return nil }), nil)
	if !errors.Is(err, driver.ErrNoProgress) {
		t.Fatalf("got %v, want ErrNoProgress", err)
	}
	if rows != 0 || stats.Calls > 20 {
		t.Fatalf("rows %d calls %d: zero-consumed items must not be emitted, and the driver must stop quickly", rows, stats.Calls)
	}
}

// TestCloseInterruptsRunningCall closes an instance while its call loops.
func TestCloseInterruptsRunningCall(t *testing.T) {
	h := newTestHost(t, &Options{CallTimeout: -1})
	loop, err := hostileParser(t, h, "loop")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := loop.Parse(context.Background(), []byte("x\n"), nil)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	closed := make(chan struct{})
	go func() { loop.Close(); close(closed) }()
	select {
	case err := <-done:
		if KindOf(err) != KindCancelled {
			t.Fatalf("got %v, want kind cancelled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not interrupt the looping call")
	}
	<-closed
}

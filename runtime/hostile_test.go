package runtime_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/testutil"
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
// further calls, and that the host keeps serving other instances. Only the
// endless loops run under a call deadline: nothing else depends on how fast
// the machine is.
func TestHostilePluginsAreContained(t *testing.T) {
	unbounded := newTestHost(t, &Options{CallTimeout: -1, MemoryLimit: 64 << 20})
	deadlined := newTestHost(t, &Options{CallTimeout: 1500 * time.Millisecond, MemoryLimit: 64 << 20})
	tests := []struct {
		mode   string
		kind   ErrorKind
		detail string // substring of the error message
		atInit bool
		loops  bool // runs on the host with a call deadline
	}{
		{mode: "loop", kind: KindTimeout, detail: "did not finish within 1.5s", loops: true},
		{mode: "init-loop", kind: KindTimeout, detail: "did not finish within", atInit: true, loops: true},
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
			h := unbounded
			if tc.loops {
				h = deadlined
			}
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

// loopAnnouncements returns an OnLog that signals on the returned channel
// each time a hostile instance announces that it starts an endless loop (it
// logs "looping" right before): the explicit signal that a call is spinning.
func loopAnnouncements() (func(LogRecord), <-chan struct{}) {
	ch := make(chan struct{}, 16)
	return func(r LogRecord) {
		if r.Plugin == "hostile" && r.Message == "looping" {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}, ch
}

// TestLoopingPluginBesideHealthySession runs a healthy instance to the end
// while another instance of the same host spins in an endless loop (no call
// deadline): the healthy one finishes unaffected, then cancelling the loop
// stops it.
func TestLoopingPluginBesideHealthySession(t *testing.T) {
	onLog, looping := loopAnnouncements()
	h := newTestHost(t, &Options{CallTimeout: -1, OnLog: onLog})
	loop, err := hostileParser(t, h, "loop")
	if err != nil {
		t.Fatal(err)
	}
	loopCtx, stopLoop := context.WithCancel(context.Background())
	loopErr := make(chan error, 1)
	go func() {
		_, err := loop.Parse(loopCtx, []byte("x\n"), nil)
		loopErr <- err
	}()
	testutil.Await(t, looping, "the looping instance to start spinning")

	good, err := hostileParser(t, h, "ok")
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	var lines []string
	input := strings.Repeat("a line\n", 2000)
	_, err = driver.Run(context.Background(), &driver.ReaderSource{R: strings.NewReader(input)}, good, driver.SinkFunc(func(_ context.Context, rows []driver.Row) error {
		for _, r := range rows {
			lines = append(lines, r.Item.Message.Line)
		}
		return nil
	}), nil)
	if err != nil || len(lines) != 2000 {
		t.Fatalf("healthy session: %v, %d lines", err, len(lines))
	}
	select {
	case err := <-loopErr:
		t.Fatalf("the looping call ended before it was cancelled: %v", err)
	default:
	}
	stopLoop()
	if err := testutil.Await(t, loopErr, "the cancelled loop to return"); KindOf(err) != KindCancelled {
		t.Fatalf("looping session: got %v, want kind cancelled", err)
	}
}

// TestCancelInterruptsRunningCall cancels the context of a call that is
// spinning (no call deadline): the call returns with kind cancelled.
func TestCancelInterruptsRunningCall(t *testing.T) {
	onLog, looping := loopAnnouncements()
	h := newTestHost(t, &Options{CallTimeout: -1, OnLog: onLog})
	loop, err := hostileParser(t, h, "loop")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := loop.Parse(ctx, []byte("x\n"), nil)
		done <- err
	}()
	testutil.Await(t, looping, "the call to start spinning")
	cancel()
	if err := testutil.Await(t, done, "the cancelled call to return"); KindOf(err) != KindCancelled {
		t.Fatalf("got %v, want kind cancelled", err)
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

// TestCloseInterruptsRunningCall closes an instance while its call spins
// (no call deadline): the call returns with kind cancelled, and Close
// returns.
func TestCloseInterruptsRunningCall(t *testing.T) {
	onLog, looping := loopAnnouncements()
	h := newTestHost(t, &Options{CallTimeout: -1, OnLog: onLog})
	loop, err := hostileParser(t, h, "loop")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := loop.Parse(context.Background(), []byte("x\n"), nil)
		done <- err
	}()
	testutil.Await(t, looping, "the call to start spinning")
	closed := make(chan struct{})
	go func() { loop.Close(); close(closed) }()
	if err := testutil.Await(t, done, "Close to interrupt the spinning call"); KindOf(err) != KindCancelled {
		t.Fatalf("got %v, want kind cancelled", err)
	}
	testutil.Await(t, closed, "Close to return")
}

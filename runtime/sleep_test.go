package runtime_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// sleeper loads hostile/sleeper.core.wasm, a parser that sleeps in WASI
// poll_oneoff (a clock subscription) for as many seconds as configured,
// printing "sleeping N s in init|parse" first. The returned channel receives
// those lines: a signal that the call is running.
func sleeper(t *testing.T, timeout time.Duration) (*Plugin, <-chan string) {
	t.Helper()
	lines := make(chan string, 16)
	h := newTestHost(t, &Options{CallTimeout: timeout, OnLog: func(r LogRecord) {
		if strings.HasPrefix(r.Message, "sleeping") {
			lines <- r.Message
		}
	}})
	p, err := h.Load(context.Background(), fixture(t, "hostile/sleeper.core.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return p, lines
}

func sleeps(initSeconds, parseSeconds int) *InitOptions {
	item := func(id string, n int) schema.Setting {
		return schema.Setting{ID: id, Value: schema.Value{Type: schema.Integer, Int: int32(n)}}
	}
	return &InitOptions{Config: []schema.Setting{item("init-seconds", initSeconds), item("parse-seconds", parseSeconds)}}
}

func wantKind(t *testing.T, what string, err error, kind ErrorKind) {
	t.Helper()
	if KindOf(err) != kind || !strings.Contains(err.Error(), "sleeper") {
		t.Fatalf("%s: %v; want a %s error naming the plugin", what, err, kind)
	}
}

// TestSleepHonoursDeadline: a plugin sleeping for 10 minutes, in parse or in
// init, is stopped by a 1 s call deadline and reported as a timeout. Before
// the fix the sleep outlived the deadline (go test's timeout is the safety
// net; nothing here measures time).
func TestSleepHonoursDeadline(t *testing.T) {
	p, _ := sleeper(t, time.Second)
	pi, err := p.NewParser(context.Background(), sleeps(0, 600))
	if err != nil {
		t.Fatal(err)
	}
	_, err = pi.Parse(context.Background(), []byte("line\n"), nil)
	wantKind(t, "parse sleeping 600 s", err, KindTimeout)
	_, err = pi.Parse(context.Background(), []byte("line\n"), nil)
	wantKind(t, "parse after the timeout", err, KindClosed)

	_, err = p.NewParser(context.Background(), sleeps(600, 0))
	wantKind(t, "init sleeping 600 s", err, KindTimeout)
}

// TestSleepHonoursCancel: cancelling the context of a call that sleeps (in
// init, then in parse) ends it at once as cancelled, although its deadline
// is 10 minutes away.
func TestSleepHonoursCancel(t *testing.T) {
	p, lines := sleeper(t, 10*time.Minute)
	for _, where := range []string{"init", "parse"} {
		t.Run(where, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				if l := <-lines; strings.HasSuffix(l, where) {
					cancel()
				}
			}()
			var err error
			if where == "init" {
				_, err = p.NewParser(ctx, sleeps(600, 0))
			} else {
				var pi *ParserInstance
				if pi, err = p.NewParser(ctx, sleeps(0, 600)); err != nil {
					t.Fatal(err)
				}
				_, err = pi.Parse(ctx, []byte("line\n"), nil)
			}
			wantKind(t, where+" sleeping 600 s, cancelled", err, KindCancelled)
		})
	}
}

// TestCloseWakesSleeper: Close from another goroutine ends a sleeping call
// (Close waits for the call, so its return proves the sleep ended).
func TestCloseWakesSleeper(t *testing.T) {
	p, lines := sleeper(t, 10*time.Minute)
	pi, err := p.NewParser(context.Background(), sleeps(0, 600))
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 1)
	go func() {
		_, err := pi.Parse(context.Background(), []byte("line\n"), nil)
		res <- err
	}()
	if l := <-lines; l != "sleeping "+strconv.Itoa(600)+" s in parse" {
		t.Fatalf("unexpected line %q", l)
	}
	pi.Close()
	wantKind(t, "parse sleeping 600 s, closed", <-res, KindCancelled)
}

// TestShortSleepCompletes: a sleep that ends before the deadline returns
// normally and the call succeeds.
func TestShortSleepCompletes(t *testing.T) {
	p, _ := sleeper(t, time.Minute)
	pi, err := p.NewParser(context.Background(), sleeps(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer pi.Close()
	items, err := pi.Parse(context.Background(), []byte("line\n"), nil)
	if err != nil || len(items) != 1 || items[0].Message == nil || items[0].Message.Line != "woke up" || items[0].Consumed != 5 {
		t.Fatalf("parse sleeping 1 s: %+v, %v; want one line \"woke up\" consuming 5 bytes", items, err)
	}
}

package runtime_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chiphost/chiphost/internal/testutil"
	. "github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"
)

// traceLog records what a CompileTrace was told, as "start NAME" and
// "done NAME" (or "failed NAME") events.
type traceLog struct {
	mu     sync.Mutex
	events []string
	infos  []CompileInfo
}

func (l *traceLog) trace() *CompileTrace {
	return &CompileTrace{
		Start: func(i CompileInfo) {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.events = append(l.events, "start "+i.Plugin)
			l.infos = append(l.infos, i)
		},
		Done: func(i CompileInfo, err error) {
			l.mu.Lock()
			defer l.mu.Unlock()
			ev := "done "
			if err != nil {
				ev = "failed "
			}
			l.events = append(l.events, ev+i.Plugin)
		},
	}
}

func (l *traceLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return "[" + strings.Join(l.events, ", ") + "]"
}

// TestCompileTrace checks when a compilation is reported: on a cold cache
// at Load (start then done, with the binary's size and Cached set), not at
// all on a warm one (neither at Load nor at the first instance), at the
// first instance when the metadata is cached but the compiled code is not,
// and every time, with Cached false, when the caches are off.
func TestCompileTrace(t *testing.T) {
	ctx := context.Background()
	path := fixture(t, "parsers/string_parser/string_parser.wasm")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()

	var cold traceLog
	h := newTestHost(t, &Options{CacheDir: cache})
	if _, err := h.Load(WithCompileTrace(ctx, cold.trace()), path); err != nil {
		t.Fatal(err)
	}
	if got := cold.String(); got != "[start string_parser, done string_parser]" {
		t.Fatalf("cold cache: trace %s, want start then done", got)
	}
	if i := cold.infos[0]; i.Size != fi.Size() || !i.Cached {
		t.Errorf("cold cache: info %+v, want size %d and Cached", i, fi.Size())
	}

	var warm traceLog
	wctx := WithCompileTrace(ctx, warm.trace())
	h2 := newTestHost(t, &Options{CacheDir: cache})
	p, err := h2.Load(wctx, path)
	if err != nil {
		t.Fatal(err)
	}
	pi, err := p.NewParser(wctx, defaults(t, p))
	if err != nil {
		t.Fatal(err)
	}
	pi.Close()
	if got := warm.String(); got != "[]" {
		t.Errorf("warm cache: trace %s, want nothing", got)
	}

	// Metadata cached, compiled code gone: the compile happens at the first
	// instance, and is reported there.
	if err := os.RemoveAll(filepath.Join(cache, "core")); err != nil {
		t.Fatal(err)
	}
	var late traceLog
	h3 := newTestHost(t, &Options{CacheDir: cache})
	p, err = h3.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	pi, err = p.NewParser(WithCompileTrace(ctx, late.trace()), defaults(t, p))
	if err != nil {
		t.Fatal(err)
	}
	pi.Close()
	if got := late.String(); got != "[start string_parser, done string_parser]" {
		t.Errorf("compile at the first instance: trace %s, want start then done", got)
	}

	var off traceLog
	h4 := newTestHost(t, &Options{NoCache: true})
	if _, err := h4.Load(WithCompileTrace(ctx, off.trace()), path); err != nil {
		t.Fatal(err)
	}
	if got := off.String(); got != "[start string_parser, done string_parser]" || off.infos[0].Cached {
		t.Errorf("caches off: trace %s %+v, want start then done with Cached false", got, off.infos)
	}
}

// TestCompileTraceWaiter has a second caller ask for a plugin while its
// first compile runs: the first caller's Start callback holds the compile
// until the second has joined it, so the overlap is certain. Both callers
// are told (the second waits as long as the first), and the plugin is
// compiled once.
func TestCompileTraceWaiter(t *testing.T) {
	ctx := context.Background()
	path := fixture(t, "parsers/string_parser/string_parser.wasm")
	cache := t.TempDir()
	// Fill the metadata cache, then drop the compiled code, so the compile
	// happens at the first instance of a new host.
	if _, err := newTestHost(t, &Options{CacheDir: cache}).Load(ctx, path); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(cache, "core")); err != nil {
		t.Fatal(err)
	}
	h := newTestHost(t, &Options{CacheDir: cache})
	p, err := h.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}

	leaderStarted, waiterStarted := make(chan struct{}), make(chan struct{})
	var leader, waiter traceLog
	lt := leader.trace()
	lstart := lt.Start
	lt.Start = func(i CompileInfo) {
		lstart(i)
		close(leaderStarted)
		testutil.Await(t, waiterStarted, "the second caller to join the compile")
	}
	wt := waiter.trace()
	wstart := wt.Start
	wt.Start = func(i CompileInfo) { wstart(i); close(waiterStarted) }

	opts := defaults(t, p)
	errs := make(chan error, 2)
	go func() {
		pi, err := p.NewParser(WithCompileTrace(ctx, lt), opts)
		if err == nil {
			pi.Close()
		}
		errs <- err
	}()
	testutil.Await(t, leaderStarted, "the first compile to start")
	go func() {
		pi, err := p.NewParser(WithCompileTrace(ctx, wt), opts)
		if err == nil {
			pi.Close()
		}
		errs <- err
	}()
	for range 2 {
		if err := testutil.Await(t, errs, "NewParser"); err != nil {
			t.Fatal(err)
		}
	}
	for name, l := range map[string]*traceLog{"first caller": &leader, "second caller": &waiter} {
		if got := l.String(); got != "[start string_parser, done string_parser]" {
			t.Errorf("%s: trace %s, want start then done", name, got)
		}
	}
}

// defaults returns init options with p's default configuration.
func defaults(t *testing.T, p *Plugin) *InitOptions {
	t.Helper()
	settings, err := schema.Complete(p.ConfigSchemas, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &InitOptions{Config: settings}
}

package runtime_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/chiphost/chiphost/internal/testutil"
	. "github.com/chiphost/chiphost/runtime"
)

// heldCompile is a plugin whose next compile blocks until the test lets it
// go: its metadata is cached and its cached main module is replaced by a
// FIFO, which the compile reads (in Host.compile's own goroutine) before
// compiling. A compile that reads a module from that cache does not write it
// back, so the FIFO stays: a second compile would block on it again.
type heldCompile struct {
	fifo string
	core []byte // what the FIFO must deliver: the cached main module
}

// holdCompile primes cache with path's metadata and main module, then puts
// the FIFO in place of the module.
func holdCompile(t *testing.T, cache, path string) *heldCompile {
	t.Helper()
	if _, err := newTestHost(t, &Options{CacheDir: cache}).Load(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	cores, err := filepath.Glob(filepath.Join(cache, "core", "*", "*.wasm"))
	if err != nil || len(cores) != 1 {
		t.Fatalf("cached main modules %v (%v), want one", cores, err)
	}
	hc := &heldCompile{fifo: cores[0]}
	if hc.core, err = os.ReadFile(hc.fifo); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(hc.fifo); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(hc.fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	return hc
}

// started returns a channel that delivers the FIFO's write end once a
// compile has opened it for reading: the compile is then under way and
// cannot end before release (nor before the test ends).
func (hc *heldCompile) started(t *testing.T) <-chan *os.File {
	ch := make(chan *os.File, 1)
	go func() {
		w, err := os.OpenFile(hc.fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			close(ch)
			return
		}
		t.Cleanup(func() { w.Close() }) // a test that failed before release unblocks the compile
		ch <- w
	}()
	return ch
}

// release lets the held compile go on.
func (hc *heldCompile) release(t *testing.T, w *os.File) {
	t.Helper()
	if _, err := w.Write(hc.core); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// newParserAsync runs p.NewParser on a goroutine and delivers its error.
func newParserAsync(ctx context.Context, p *Plugin, opts *InitOptions) <-chan error {
	errs := make(chan error, 1)
	go func() {
		pi, err := p.NewParser(ctx, opts)
		if err == nil {
			pi.Close()
		}
		errs <- err
	}()
	return errs
}

func wantErrKind(t *testing.T, err error, kind ErrorKind, what string) {
	t.Helper()
	if KindOf(err) != kind {
		t.Fatalf("%s: error %v, want kind %s", what, err, kind)
	}
}

// compileCancelled is the start both tests share: a Host whose first
// NewParser of string_parser holds its compile (holdCompile), that call
// cancelled while the compile is held, and what it returned.
type compileCancelled struct {
	h    *Host
	p    *Plugin
	opts *InitOptions
	hc   *heldCompile
	w    *os.File     // the FIFO's writer: hc.release(t, w) lets the compile go on
	errs <-chan error // the cancelled call's result
}

func cancelDuringCompile(t *testing.T) compileCancelled {
	t.Helper()
	ctx := context.Background()
	path := fixture(t, "parsers/string_parser/string_parser.wasm")
	hc := holdCompile(t, t.TempDir(), path)
	h := newTestHost(t, &Options{CacheDir: filepath.Dir(filepath.Dir(filepath.Dir(hc.fifo)))})
	p, err := h.Load(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	opts := defaults(t, p)

	started := hc.started(t)
	cctx, cancel := context.WithCancel(ctx)
	errs := newParserAsync(cctx, p, opts)
	w := testutil.Await(t, started, "the compile to open the cached module")
	if w == nil {
		t.FailNow()
	}
	cancel()
	return compileCancelled{h: h, p: p, opts: opts, hc: hc, w: w, errs: errs}
}

// TestCompileCancel cancels the call that started a compile while the
// compile is held: the call returns KindCancelled (wrapping
// context.Canceled) at once, though the compile has not ended. Once
// released, the compile is kept: a second caller gets it without compiling
// again (a second compile would block on the FIFO).
func TestCompileCancel(t *testing.T) {
	ctx := context.Background()
	c := cancelDuringCompile(t)
	err := testutil.Await(t, c.errs, "the cancelled NewParser to return while the compile is held")
	wantErrKind(t, err, KindCancelled, "cancelled during the compile")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}

	c.hc.release(t, c.w)
	if err := testutil.Await(t, newParserAsync(ctx, c.p, c.opts), "a second NewParser (a second compile would block on the FIFO)"); err != nil {
		t.Fatalf("second caller: %v", err)
	}
}

// TestCompileHostClose closes the Host while a compile whose caller was
// cancelled is held: Close returns without waiting for it, a later load
// fails with KindClosed without compiling, and releasing the compile then
// lets it end (it drops its result and closes the runtime; -race checks
// that nothing uses the closed runtime).
func TestCompileHostClose(t *testing.T) {
	ctx := context.Background()
	c := cancelDuringCompile(t)
	wantErrKind(t, testutil.Await(t, c.errs, "the cancelled NewParser"), KindCancelled, "cancelled during the compile")

	closed := make(chan error, 1)
	go func() { closed <- c.h.Close(ctx) }()
	if err := testutil.Await(t, closed, "Close while a compile is held"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(c.h.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary directory after Close: %v, want it removed", err)
	}
	wantErrKind(t, testutil.Await(t, newParserAsync(ctx, c.p, c.opts), "NewParser after Close"), KindClosed, "NewParser after Close")
	c.hc.release(t, c.w)
}

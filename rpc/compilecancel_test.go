package rpc

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/chiphost/chiphost/internal/testutil"
	"github.com/chiphost/chiphost/rpc/protocol"
)

// TestCancelOpenDuringCompile cancels a sessions/open while the parser's
// compile is held: -32800 (kind cancelled) arrives though the compile has
// not ended, and a second open, once the compile is released, gets the
// compiled plugin. The hold: a first server fills a cache directory of the
// test's own, then the cached main module is replaced by a FIFO, which the
// second server's compile reads before compiling. Opening the FIFO for
// writing returns once that read has begun; nothing is written before the
// answer came. A module read from that cache is not written back, so a
// second compile would block on the FIFO and fail the test.
func TestCancelOpenDuringCompile(t *testing.T) {
	watchdog(t, 90*time.Second)
	cache := t.TempDir()
	input := writeLines(t, 3)
	params := protocol.SessionsOpenParams{Source: protocol.SourceSpec{File: input},
		Parser: protocol.ParserSpec{Plugin: filepath.Join(plugins, "parsers/string_parser/string_parser.wasm")}}
	server := func() *client {
		c := start(t, startOpts{args: []string{"--cache-dir", cache}})
		c.initialize(nil)
		return c
	}
	server().mustCall(protocol.MethodSessionsOpen, params, &protocol.SessionsOpenResult{})

	cores, err := filepath.Glob(filepath.Join(cache, "core", "*", "*.wasm"))
	if err != nil || len(cores) != 1 {
		t.Fatalf("cached main modules %v (%v), want one", cores, err)
	}
	fifo := cores[0]
	core, err := os.ReadFile(fifo)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(fifo); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	c := server()
	reading := make(chan *os.File, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
		}
		reading <- w
	}()
	ctx, cancel := context.WithCancel(context.Background())
	answer := make(chan error, 1)
	go func() {
		_, err := callRaw(ctx, c, protocol.MethodSessionsOpen, params)
		answer <- err
	}()
	w := testutil.Await(t, reading, "the compile to read the cached module")
	if w == nil {
		t.FailNow()
	}
	t.Cleanup(func() { w.Close() })
	cancel() // sends $/cancelRequest
	if d := wireErr(t, testutil.Await(t, answer, "the answer to the cancelled open"), protocol.CodeRequestCancelled); d.Kind != "cancelled" {
		t.Fatalf("cancelled open: data %+v, want kind cancelled", d)
	}

	if _, err := w.Write(core); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var open protocol.SessionsOpenResult
	c.mustCall(protocol.MethodSessionsOpen, params, &open)
	if fin := c.waitFinal(open.Session, 60*time.Second); fin.State != protocol.StateDone {
		t.Errorf("second open: %+v, want done", fin)
	}
}

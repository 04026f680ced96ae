package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/chiphost/chiphost/rpc"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// version is reported in initialize's serverInfo.
var version = "devel"

// serveCmd runs the JSON-RPC server on stdin/stdout (spec/protocol.md).
func serveCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var hf hostFlags
	hf.register(fs)
	framing := fs.String("framing", "header", "message framing: header (LSP Content-Length) or ndjson (one JSON message per line)")
	traceFile := fs.String("trace-file", "", "append every message sent and received to this file, one JSON line each")
	inputFD := fs.Int("input-fd", -1, `file descriptor read by sessions opened with {"stdin": true}`)
	eofGrace := fs.Duration("eof-grace", 0, "how long requests in flight may finish after stdin closes before they are cancelled (default 5s)")
	maxSessions := fs.Int("max-sessions", rpc.DefaultMaxSessions, "sessions open at once; sessions/open beyond it fails with -31905")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if *framing != string(rpc.FramingHeader) && *framing != string(rpc.FramingNDJSON) {
		return usageError{fmt.Errorf("-framing: want header or ndjson, found %q", *framing)}
	}
	log, closeLog, err := hf.logger(stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	opts, err := hf.options(&log)
	if err != nil {
		return err
	}
	var srv atomic.Pointer[rpc.Server]
	opts.OnLog = func(r runtime.LogRecord) {
		log.Debug().Str("plugin", r.Plugin).Uint64("instance", r.Instance).Str("from", string(r.Source)).Msg(r.Message)
		if s := srv.Load(); s != nil {
			s.PluginLog(r)
		}
	}
	host, err := runtime.NewHost(ctx, opts)
	if err != nil {
		return err
	}
	defer host.Close(context.Background())

	var trace io.Writer
	if *traceFile != "" {
		f, err := os.OpenFile(*traceFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("-trace-file: %w", err)
		}
		defer f.Close()
		trace = f
	}
	var input driver.Source
	if *inputFD >= 0 {
		input = driver.StreamSource(uintptr(*inputFD), fmt.Sprintf("fd%d", *inputFD))
	}
	s, err := rpc.NewServer(&rpc.Options{
		Host: host, Roots: hf.roots(), Logger: &log, Framing: rpc.Framing(*framing),
		Trace: trace, Version: version, TempDir: hf.tempDir, Input: input, EOFGrace: *eofGrace,
		MaxSessions: *maxSessions,
	})
	if err != nil {
		return err
	}
	srv.Store(s)
	// A client that vanishes closes our stdout: get EPIPE from the write
	// (and clean up) instead of dying of SIGPIPE with files left behind.
	signal.Ignore(syscall.SIGPIPE)
	err = s.Serve(ctx, stdio(stdin, stdout))
	if errors.Is(err, rpc.ErrExitWithoutShutdown) {
		return err // exit status 1, as LSP requires
	}
	return err
}

// stdio joins stdin and stdout into the server's stream. When stdin is the
// process's standard input it is switched to non-blocking mode and reopened,
// so that closing it interrupts a pending read (a blocking pipe read is not
// interrupted by Close, which would hang shutdown).
func stdio(stdin io.Reader, stdout io.Writer) io.ReadWriteCloser {
	in := stdin
	if f, ok := stdin.(*os.File); ok && f.Fd() == 0 {
		if err := syscall.SetNonblock(0, true); err == nil {
			in = os.NewFile(0, "stdin")
		}
	}
	return &rwc{Reader: in, Writer: stdout}
}

type rwc struct {
	io.Reader
	io.Writer
}

// Close closes stdin (ending the read loop); stdout stays open until exit.
func (c *rwc) Close() error {
	if cl, ok := c.Reader.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/chiphost/chiphost/rpc"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
)

// version is reported in initialize's serverInfo.
var version = "devel"

// serveFlags are the flags of serve (and of chiphost with no command).
type serveFlags struct {
	host        hostFlags
	framing     string
	traceFile   string
	inputFD     int
	eofGrace    time.Duration
	maxSessions int
}

func (f *serveFlags) register(fs *pflag.FlagSet) {
	f.host.register(fs)
	fs.StringVar(&f.framing, "framing", "header", "message `framing`: header (LSP Content-Length) or ndjson (one JSON message per line)")
	fs.StringVar(&f.traceFile, "trace-file", "", "append every message sent and received to `FILE`, one JSON line each")
	fs.IntVar(&f.inputFD, "input-fd", -1, "file descriptor `FD` read by sessions opened with {\"stdin\": true}")
	fs.DurationVar(&f.eofGrace, "eof-grace", 0, "how long requests in flight may finish after stdin closes before they are cancelled (default 5s)")
	fs.IntVar(&f.maxSessions, "max-sessions", rpc.DefaultMaxSessions, "sessions open at once; sessions/open beyond it fails with -31905")
}

const serveLong = `serve runs the JSON-RPC 2.0 server on stdin/stdout (spec/protocol.md): plugin
discovery, sessions over files, stdin or byte-source plugins, rows by random
access or as a stream. Messages use LSP Content-Length framing, or one JSON
message per line with --framing ndjson. Logs go to stderr. chiphost with no
command does the same.`

const serveExample = `  chiphost serve --framing ndjson --plugins-dir ./plugins
  echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}' | chiphost --framing ndjson`

func newServeCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var sf serveFlags
	cmd := &cobra.Command{
		Use:     "serve",
		Short:   "JSON-RPC 2.0 server on stdin/stdout (the default command)",
		Long:    serveLong,
		Example: serveExample,
		Args:    noArgs,
	}
	sf.register(cmd.Flags())
	completeValues(cmd, "framing", string(rpc.FramingHeader), string(rpc.FramingNDJSON))
	cmd.RunE = ran(func(cmd *cobra.Command, _ []string) error {
		return serveCmd(cmd.Context(), &sf, stdin, stdout, stderr)
	})
	return cmd
}

// serveCmd runs the JSON-RPC server on stdin/stdout (spec/protocol.md).
func serveCmd(ctx context.Context, sf *serveFlags, stdin io.Reader, stdout, stderr io.Writer) error {
	if sf.framing != string(rpc.FramingHeader) && sf.framing != string(rpc.FramingNDJSON) {
		return usageError{fmt.Errorf("--framing: want header or ndjson, found %q", sf.framing)}
	}
	if hint := terminalHint(stdin, stderr, sf.framing); hint != "" {
		fmt.Fprintln(stderr, hint)
	}
	log, closeLog, err := sf.host.logger(stderr, "")
	if err != nil {
		return err
	}
	defer closeLog()
	opts, err := sf.host.options(&log)
	if err != nil {
		return err
	}
	host, err := runtime.NewHost(ctx, opts)
	if err != nil {
		return err
	}
	defer host.Close(context.Background())

	var trace io.Writer
	if sf.traceFile != "" {
		f, err := os.OpenFile(sf.traceFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("--trace-file: %w", err)
		}
		defer f.Close()
		trace = f
	}
	var input driver.Source
	if sf.inputFD >= 0 {
		input = driver.StreamSource(uintptr(sf.inputFD), fmt.Sprintf("fd%d", sf.inputFD))
	}
	s, err := rpc.NewServer(&rpc.Options{
		Host: host, Roots: sf.host.roots(), Logger: &log, Framing: rpc.Framing(sf.framing),
		Trace: trace, Version: version, TempDir: sf.host.tempDir, Input: input, EOFGrace: sf.eofGrace,
		MaxSessions: sf.maxSessions,
	})
	if err != nil {
		return err
	}
	host.SetLogSink(s.PluginLog) // the host logs each line at debug level itself
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

// terminalHint returns the line chiphost prints on stderr before it serves
// when a person rather than a program started it (stdin and stderr are both
// terminals): what it expects on stdin and where the help is. Otherwise it
// returns "", so programs see exactly what they saw before.
func terminalHint(stdin io.Reader, stderr io.Writer, framing string) string {
	if !isTerminal(stdin) || !isTerminal(stderr) {
		return ""
	}
	how := "LSP Content-Length framing; --framing ndjson for one message per line"
	if framing == string(rpc.FramingNDJSON) {
		how = "one message per line"
	}
	return "chiphost: serving JSON-RPC 2.0 on stdin/stdout (" + how + "); Ctrl-D ends, \"chiphost help\" lists the commands"
}

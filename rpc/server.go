package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/internal/procdir"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"

	"github.com/chiphost/chiphost/rpc/framing"
	"github.com/chiphost/chiphost/rpc/protocol"
)

// Framing selects how messages are delimited on the byte stream (see
// package rpc/framing).
type Framing = framing.Framing

// The two framings.
const (
	// FramingHeader is LSP's base protocol, Content-Length headers. The
	// default.
	FramingHeader = framing.Header
	// FramingNDJSON is one JSON message per line.
	FramingNDJSON = framing.NDJSON
)

// ErrExitWithoutShutdown is returned by Serve when the client sent exit
// without shutdown first; the process should exit with status 1.
var ErrExitWithoutShutdown = errors.New("exit without shutdown")

// Options configure a Server. A nil *Options or a zero field means the
// documented default.
type Options struct {
	// Host runs the plugins. Required.
	Host *runtime.Host
	// Roots are the plugin roots scanned by plugins/list, after the
	// client's initializationOptions.pluginDirs.
	Roots []string
	// Logger receives the server's diagnostics. Default: discard.
	Logger *zerolog.Logger
	// Framing of the stream (default FramingHeader).
	Framing Framing
	// Trace, when set, receives every frame as a JSON line.
	Trace io.Writer
	// Version is reported in serverInfo.version (default "devel").
	Version string
	// TempDir is where the server keeps session directories (row stores,
	// attachments): in its own directory TempDir/chiphost-<uid>/<pid>-<random>
	// (default TempDir: os.TempDir()). chiphost-<uid> must belong to the
	// user and not be writable by others, or Serve fails. Everything the
	// server creates is removed when the session closes, at shutdown, and
	// at exit; what a server that was killed left behind is removed when
	// the next one starts.
	TempDir string
	// MaxConcurrent bounds requests doing work at once (default 16).
	// Waiting for stream credits does not count.
	MaxConcurrent int
	// Input is the byte source of sessions opened with {"stdin": true}
	// (usable by one session). The server's own stdin carries the protocol,
	// so this is another descriptor (chiphost --input-fd, read through
	// driver.StreamSource so that closing the session interrupts a waiting
	// read; any io.Reader fits in a driver.ReaderSource). Nil: such sessions
	// are refused.
	Input driver.Source
	// WatchInterval is how often plugin roots are polled for
	// plugins/changed (default 2s; negative: never).
	WatchInterval time.Duration
	// UpdateInterval is the minimum gap between two sessions/updated
	// notifications of one session (default 25ms, i.e. at most 40/s; the
	// first change after a quiet spell is sent at once).
	UpdateInterval time.Duration
	// EOFGrace is how long the server lets requests in flight finish after
	// its input ends, before cancelling them (default 5s). Clients that
	// want every answer keep stdin open until they have them.
	EOFGrace time.Duration
	// LogRate bounds window/logMessage notifications per second
	// (default 200); extra lines are counted and reported once.
	LogRate int
	// MaxSessions bounds the sessions open at once (default
	// DefaultMaxSessions); sessions/open beyond it fails with
	// CodeLimitReached.
	MaxSessions int
}

// DefaultMaxSessions is the default of Options.MaxSessions.
const DefaultMaxSessions = 64

// Server serves the chiphost protocol on one connection.
//
// # Notes
//
//   - Serve may be called once. PluginLog may be called at any time from
//     any goroutine, before, during or after Serve.
type Server struct {
	opts Options
	log  zerolog.Logger
	sem  chan struct{}

	conn    jsonrpc2.Conn
	baseCtx context.Context

	// inflight maps the ids of running requests to their cancel functions
	// ($/cancelRequest). jsonrpc2.CancelHandler is not used: it derives a
	// context from the library's pooled request context, whose propagation
	// goroutine can touch the recycled request (a crash in v1.0.1).
	imu      sync.Mutex
	inflight map[jsonrpc2.ID]context.CancelFunc
	answers  answers // calls not yet answered on the wire
	stream   *framing.Stream

	mu          sync.Mutex
	initialized bool
	shutdown    bool
	exited      bool
	exitCh      chan struct{}
	clientDirs  []string
	pluginLevel runtime.LogLevel
	inputUsed   bool

	routes   map[string]route // the methods the server runs (dispatch.go)
	plugins  pluginRegistry
	sessions sessionRegistry
	searches searchRegistry
	logs     logForwarder
	memory   *memoryReleaser
	tempDir  string // this server's private directory (see Options.TempDir)
}

// NewServer creates a server.
func NewServer(opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := o.complete(); err != nil {
		return nil, err
	}
	routes, err := newRoutes(protocol.Methods(), handlers())
	if err != nil {
		return nil, fmt.Errorf("rpc: %w", err)
	}
	s := &Server{
		routes:      routes,
		opts:        o,
		log:         *o.Logger,
		sem:         make(chan struct{}, o.MaxConcurrent),
		exitCh:      make(chan struct{}),
		pluginLevel: runtime.LevelInfo,
		inflight:    map[jsonrpc2.ID]context.CancelFunc{},
	}
	s.memory = newMemoryReleaser(s.log, s.sessions.count)
	s.plugins.host = o.Host
	s.sessions.init()
	s.searches.init()
	s.answers.init()
	s.logs.init(s, o.LogRate)
	return s, nil
}

// complete checks o and fills its zero fields with their defaults.
func (o *Options) complete() error {
	if o.Host == nil {
		return errors.New("rpc: Options.Host is required")
	}
	if o.Framing == "" {
		o.Framing = FramingHeader
	}
	if o.Framing != FramingHeader && o.Framing != FramingNDJSON {
		return fmt.Errorf("rpc: unknown framing %q (want header or ndjson)", o.Framing)
	}
	if o.Logger == nil {
		nop := zerolog.Nop()
		o.Logger = &nop
	}
	if o.WatchInterval == 0 {
		o.WatchInterval = 2 * time.Second
	}
	setDefault(&o.Version, "devel")
	setDefault(&o.TempDir, os.TempDir())
	setDefault(&o.MaxConcurrent, 16)
	setDefault(&o.UpdateInterval, 25*time.Millisecond)
	setDefault(&o.EOFGrace, 5*time.Second)
	setDefault(&o.LogRate, 200)
	setDefault(&o.MaxSessions, DefaultMaxSessions)
	return nil
}

// setDefault sets *v to def when it is zero or negative.
func setDefault[T int | time.Duration | string](v *T, def T) {
	var zero T
	if *v <= zero {
		*v = def
	}
}

// Serve serves the protocol on rwc until the client sends exit, rwc reaches
// EOF, or ctx is cancelled. It closes every session and removes their files
// before returning. It returns ErrExitWithoutShutdown when the client sent
// exit before shutdown, and nil for every other clean end.
func (s *Server) Serve(ctx context.Context, rwc io.ReadWriteCloser) error {
	dir, err := procdir.Open(procdir.Parent(s.opts.TempDir))
	if err != nil {
		return fmt.Errorf("rpc: session directory: %w", err)
	}
	dir.LogCleanup(&s.log)
	s.tempDir = dir.Path
	defer dir.Close()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.baseCtx = ctx
	st := s.newStream(ctx, cancel, rwc)
	s.stream = st
	s.conn = jsonrpc2.NewConn(st, jsonrpc2.WithCodec(codec{}), jsonrpc2.WithPreempter(preempter{s}))
	s.conn.Go(ctx, s.handle)
	s.logs.start()
	go s.memory.run(ctx)
	s.log.Info().Str("framing", string(s.opts.Framing)).Msg("serving")

	result := s.waitEnd(ctx, st)
	s.answerAll() // usually done already (exit, EOF); bounded
	cancel()
	s.sessions.closeAll(s)
	s.logs.stop()
	s.closeConn(st)
	return result
}

// newStream frames the connection on rwc. Its hooks tie it to the server:
// responses are tracked until they are on the wire (answers.go), a failed
// write (the client is gone) ends serving, and at end of input, requests
// in flight get EOFGrace to finish, then are cancelled and answered, and
// the sessions are closed (each sends its final sessions/updated), all
// before the library learns of the EOF (after which it writes nothing).
func (s *Server) newStream(ctx context.Context, cancel context.CancelFunc, rwc io.ReadWriteCloser) *framing.Stream {
	return framing.NewStream(rwc, framing.Options{
		Framing: s.opts.Framing,
		Trace:   s.opts.Trace,
		OnMalformed: func(msg string) {
			s.log.Warn().Str("framing", string(s.opts.Framing)).Msg("malformed frame: " + msg)
		},
		OnResponse: s.answers.answered,
		OnEOF: func() {
			s.answers.wait(ctx, s.opts.EOFGrace)
			s.answerAll()
			s.sessions.closeAll(s)
		},
		OnWriteError: func(err error) {
			s.log.Info().Err(err).Msg("write failed: the client is gone")
			cancel()
		},
	})
}

// waitEnd waits until the input ends, the connection fails, the client
// sends exit or ctx is done. It returns ErrExitWithoutShutdown for an exit
// that came before shutdown.
func (s *Server) waitEnd(ctx context.Context, st *framing.Stream) error {
	select {
	case <-st.ReadDone():
		s.log.Info().Msg("input closed")
	case <-s.conn.Done():
		s.log.Info().Err(s.conn.Err()).Msg("connection ended")
	case <-s.exitCh:
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.shutdown {
			return ErrExitWithoutShutdown
		}
	case <-ctx.Done():
	}
	return nil
}

// closeConn closes the connection: Close drains in-flight handlers (all
// cancelled by then) and closes the stream; it is bounded so that a peer
// that stopped reading cannot hang the server.
func (s *Server) closeConn(st *framing.Stream) {
	closed := make(chan struct{})
	go func() { _ = s.conn.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		_ = st.Close()
		s.log.Warn().Msg("connection did not close within 2s")
	}
}

// roots returns the plugin roots: the client's, then the server's.
func (s *Server) roots() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.clientDirs...)
	return append(out, s.opts.Roots...)
}

// notify sends a notification, logging failures (a client gone away).
func (s *Server) notify(method string, params any) {
	if s.conn == nil {
		return
	}
	if err := s.conn.Notify(s.baseCtx, method, params); err != nil {
		s.log.Debug().Err(err).Str("method", method).Msg("notification not sent")
	}
}

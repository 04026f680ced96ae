package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/internal/procdir"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
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
	// notifications of one session (default 50ms, i.e. at most 20/s).
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
	stream   *stream

	mu          sync.Mutex
	initialized bool
	shutdown    bool
	exited      bool
	exitCh      chan struct{}
	clientDirs  []string
	pluginLevel runtime.LogLevel
	inputUsed   bool

	plugins  pluginRegistry
	sessions sessionRegistry
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
	if o.Host == nil {
		return nil, errors.New("rpc: Options.Host is required")
	}
	if o.Logger == nil {
		nop := zerolog.Nop()
		o.Logger = &nop
	}
	if o.Version == "" {
		o.Version = "devel"
	}
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 16
	}
	if o.WatchInterval == 0 {
		o.WatchInterval = 2 * time.Second
	}
	if o.UpdateInterval <= 0 {
		o.UpdateInterval = 50 * time.Millisecond
	}
	if o.EOFGrace <= 0 {
		o.EOFGrace = 5 * time.Second
	}
	if o.LogRate <= 0 {
		o.LogRate = 200
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.Framing == "" {
		o.Framing = FramingHeader
	}
	if o.Framing != FramingHeader && o.Framing != FramingNDJSON {
		return nil, fmt.Errorf("rpc: unknown framing %q (want header or ndjson)", o.Framing)
	}
	s := &Server{
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
	s.answers.init()
	s.logs.init(s, o.LogRate)
	return s, nil
}

// methodInfo is one row of the dispatch table.
type methodInfo struct {
	notification bool // a notification (no response)
	async        bool // release the read loop before running
	work         bool // holds a concurrency slot while running
	run          func(s *Server, ctx context.Context, params json.RawMessage) (any, error)
}

// methods is the dispatch table: every method the server accepts.
var methods = map[string]methodInfo{
	MethodInitialize:      {run: typed((*Server).initialize)},
	MethodInitialized:     {notification: true, run: typed((*Server).initializedNotification)},
	MethodShutdown:        {run: typed((*Server).shutdownRequest)},
	MethodExit:            {notification: true, run: typed((*Server).exitNotification)},
	MethodPluginsList:     {async: true, work: true, run: typed((*Server).pluginsList)},
	MethodPluginsDescribe: {async: true, work: true, run: typed((*Server).pluginsDescribe)},
	MethodPluginsReload:   {async: true, work: true, run: typed((*Server).pluginsReload)},
	MethodSessionsOpen:    {async: true, work: true, run: typed((*Server).sessionsOpen)},
	MethodSessionsGrab:    {async: true, work: true, run: typed((*Server).sessionsGrab)},
	MethodSessionsStream:  {async: true, run: typed((*Server).sessionsStream)},
	MethodSessionsClose:   {async: true, run: typed((*Server).sessionsClose)},
	// Handled by the preempter, listed for documentation and the spec test.
	MethodCancelRequest:  {notification: true, run: typed((*Server).cancelNotification)},
	MethodSessionsCredit: {notification: true, run: typed((*Server).creditNotification)},
}

// Methods returns the names of the client→server methods in the dispatch
// table, sorted.
func Methods() []string {
	out := make([]string, 0, len(methods))
	for m := range methods {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Notifications returns the server→client notifications, sorted.
func Notifications() []string {
	return []string{MethodProgress, MethodPluginsChanged, MethodSessionsItems, MethodSessionsUpdated, MethodLogMessage}
}

// typed adapts a handler taking decoded params to the dispatch table.
func typed[P any, R any](f func(*Server, context.Context, *P) (R, error)) func(*Server, context.Context, json.RawMessage) (any, error) {
	return func(s *Server, ctx context.Context, raw json.RawMessage) (any, error) {
		var p P
		if len(raw) > 0 && string(raw) != "null" && !isEmptyArray(raw) {
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, invalidParams("invalid params: %s", paramsError(err))
			}
		}
		return f(s, ctx, &p)
	}
}

// isEmptyArray reports whether raw is the JSON array []: params [] mean no
// params, as {} do (Neovim's vim.json encodes an empty table as []).
func isEmptyArray(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "[]"
}

// paramsError makes a json decoding error readable for clients.
func paramsError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "params"
		}
		return fmt.Sprintf("%s: want %s, found JSON %s", clip(field, maxEcho), te.Type, clip(te.Value, maxEcho))
	}
	return err.Error()
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
	st := newStream(rwc, s.opts.Framing, newTracer(s.opts.Trace), func(msg string) {
		s.log.Warn().Str("framing", string(s.opts.Framing)).Msg("malformed frame: " + msg)
	})
	st.onResponse = s.answers.answered
	// At end of input, requests in flight get EOFGrace to finish, then are
	// cancelled and answered, and the sessions are closed (each sends its
	// final sessions/updated), all before the library learns of the EOF
	// (after which it writes nothing).
	st.onEOF = func() {
		s.answers.wait(ctx, s.opts.EOFGrace)
		s.answerAll()
		s.sessions.closeAll(s)
	}
	s.stream = st
	st.onWrErr = func(err error) {
		s.log.Info().Err(err).Msg("write failed: the client is gone")
		cancel()
	}
	s.conn = jsonrpc2.NewConn(st, jsonrpc2.WithCodec(codec{}), jsonrpc2.WithPreempter(preempter{s}))
	s.conn.Go(ctx, s.handle)
	s.logs.start()
	go s.memory.run(ctx)
	s.log.Info().Str("framing", string(s.opts.Framing)).Msg("serving")

	var result error
	select {
	case <-st.readDone:
		s.log.Info().Msg("input closed")
	case <-s.conn.Done():
		s.log.Info().Err(s.conn.Err()).Msg("connection ended")
	case <-s.exitCh:
		s.mu.Lock()
		if !s.shutdown {
			result = ErrExitWithoutShutdown
		}
		s.mu.Unlock()
	case <-ctx.Done():
	}
	s.answerAll() // usually done already (exit, EOF); bounded
	cancel()
	s.sessions.closeAll(s)
	s.logs.stop()
	// Close drains in-flight handlers (all cancelled above) and closes the
	// stream; bound it so a peer that stopped reading cannot hang us.
	closed := make(chan struct{})
	go func() { _ = s.conn.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		_ = st.Close()
		s.log.Warn().Msg("connection did not close within 2s")
	}
	return result
}

// handle is the server's jsonrpc2 handler: lifecycle gate, dispatch, async
// release, concurrency bound, panic guard, error mapping.
//
// The handler runs on its own context, derived from the serve context and
// registered under the request id for $/cancelRequest; the library's request
// context (rctx) is used only to release the read loop.
func (s *Server) handle(rctx context.Context, req *jsonrpc2.Request) (any, error) {
	ctx, cancel := context.WithCancel(s.baseCtx)
	defer cancel()
	method := req.Method()
	isCall := req.IsCall()
	info, known := methods[method]
	if isCall {
		id := req.ID()
		s.answers.add(id, known && info.work)
		s.imu.Lock()
		s.inflight[id] = cancel
		s.imu.Unlock()
		defer func() {
			s.imu.Lock()
			delete(s.inflight, id)
			s.imu.Unlock()
		}()
	}
	s.mu.Lock()
	initialized, shutdown := s.initialized, s.shutdown
	s.mu.Unlock()
	switch {
	case !initialized && method != MethodInitialize && method != MethodExit:
		if isCall {
			return nil, jsonrpc2.NewError(CodeServerNotInitialized, "server not initialized: send initialize first")
		}
		return nil, nil // LSP: notifications before initialize are dropped
	case initialized && method == MethodInitialize:
		return nil, jsonrpc2.NewError(CodeInvalidRequest, "initialize was already sent")
	case shutdown && isCall:
		return nil, jsonrpc2.NewError(CodeInvalidRequest, "server is shutting down: only exit is accepted")
	}
	if !known {
		if isCall {
			return nil, jsonrpc2.NewError(CodeMethodNotFound, "method not found: "+echo(method))
		}
		s.log.Debug().Str("method", clip(method, maxEcho)).Msg("ignoring unknown notification")
		return nil, nil
	}
	if !isCall && !info.notification {
		s.log.Warn().Str("method", method).Msg("request sent as a notification (no id); ignored")
		return nil, nil
	}
	if info.async {
		jsonrpc2.Async(rctx)
		// Before Async the method borrowed the read buffer, which the next
		// read reuses; Async gave the request its own copy.
		method = req.Method()
	}
	if info.work {
		select {
		case s.sem <- struct{}{}:
			defer func() { <-s.sem }()
		case <-ctx.Done():
			return nil, toWire(ctx, ctx.Err(), "")
		}
	}
	log := s.log.With().Str("method", method).Logger()
	if isCall {
		log = log.With().Str("id", clip(fmt.Sprint(req.ID()), maxEcho)).Logger()
	}
	ctx = log.WithContext(ctx)
	res, err := s.run(ctx, info, json.RawMessage(req.Params()))
	if !isCall {
		if err != nil { // never fail the connection for a notification
			log.Warn().Str("error", clip(err.Error(), maxErrorText)).Msg("notification failed")
		}
		return nil, nil
	}
	if err != nil {
		log.Debug().Str("error", clip(err.Error(), maxErrorText)).Msg("request failed")
		return nil, toWire(ctx, err, "")
	}
	return res, nil
}

// run calls a handler, turning a panic into an internal error instead of
// letting it close the connection.
func (s *Server) run(ctx context.Context, info methodInfo, params json.RawMessage) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error().Str("stack", string(debug.Stack())).Msgf("handler panic: %v", r)
			res, err = nil, wireError(CodeInternalError, fmt.Sprintf("internal error: %v", r), &ErrorData{Kind: kindInternal, Detail: fmt.Sprint(r)})
		}
	}()
	return info.run(s, ctx, params)
}

// preempter handles $/cancelRequest and sessions/credit on the read loop,
// ahead of anything queued, without blocking.
type preempter struct{ s *Server }

func (p preempter) Preempt(ctx context.Context, req *jsonrpc2.Request) (any, error) {
	switch req.Method() {
	case MethodCancelRequest:
		var cp CancelParams
		if err := json.Unmarshal(req.Params(), &cp); err == nil {
			if id, ok := toID(cp.ID); ok {
				p.s.cancelRequest(id)
			}
		}
		return true, nil
	case MethodSessionsCredit:
		var cp SessionsCreditParams
		if err := json.Unmarshal(req.Params(), &cp); err == nil {
			p.s.sessions.credit(cp.Session, cp.Credits.Rows)
		}
		return true, nil
	}
	return nil, jsonrpc2.ErrNotHandled
}

// cancelRequest cancels the running request id, and the batch member with
// that id (it runs under an alias, see inbound.go); unknown ids are ignored.
func (s *Server) cancelRequest(id jsonrpc2.ID) {
	ids := []jsonrpc2.ID{id}
	if a, ok := s.stream.in.aliasOf(id); ok {
		ids = append(ids, a)
	}
	s.imu.Lock()
	var cancels []context.CancelFunc
	for _, id := range ids {
		if cancel := s.inflight[id]; cancel != nil {
			cancels = append(cancels, cancel)
		}
	}
	s.imu.Unlock()
	for _, cancel := range cancels {
		cancel()
	}
}

// toID converts a decoded JSON id (float64 or string) to a jsonrpc2.ID.
func toID(v any) (jsonrpc2.ID, bool) {
	switch x := v.(type) {
	case float64:
		return jsonrpc2.NewNumberID(int64(x)), true
	case string:
		return jsonrpc2.NewStringID(x), true
	}
	return jsonrpc2.ID{}, false
}

// cancelNotification and creditNotification are only reached if the
// preempter did not handle the message; they do the same.
func (s *Server) cancelNotification(_ context.Context, p *CancelParams) (any, error) {
	if id, ok := toID(p.ID); ok {
		s.cancelRequest(id)
	}
	return nil, nil
}

func (s *Server) creditNotification(_ context.Context, p *SessionsCreditParams) (any, error) {
	s.sessions.credit(p.Session, p.Credits.Rows)
	return nil, nil
}

func (s *Server) initialize(ctx context.Context, p *InitializeParams) (*InitializeResult, error) {
	level := runtime.LevelInfo
	var dirs []string
	if o := p.InitializationOptions; o != nil {
		if o.LogLevel != "" {
			l, err := runtime.ParseLogLevel(o.LogLevel)
			if err != nil {
				return nil, invalidParams("initializationOptions.logLevel: unknown log level %s (want error, warn, info, debug or trace)", echo(o.LogLevel))
			}
			level = l
		}
		for _, d := range o.PluginDirs {
			abs, err := filepath.Abs(d)
			if err != nil {
				return nil, invalidParams("initializationOptions.pluginDirs: %v", err)
			}
			dirs = append(dirs, abs)
		}
	}
	s.mu.Lock()
	s.initialized = true
	s.clientDirs = dirs
	s.pluginLevel = level
	s.mu.Unlock()
	if p.ProcessID != nil {
		go s.watchParent(*p.ProcessID)
	}
	if s.opts.WatchInterval > 0 {
		// The baseline is taken before initialize answers, so a plugin the
		// client installs right after is reported.
		go s.watchPlugins(rootsSignature(s.roots()))
	}
	if p.ClientInfo != nil {
		zerolog.Ctx(ctx).Info().Str("client", p.ClientInfo.Name).Str("clientVersion", p.ClientInfo.Version).Msg("initialized")
	}
	return &InitializeResult{
		ServerInfo:      ServerInfo{Name: ServerName, Version: s.opts.Version},
		ProtocolVersion: ProtocolVersion,
		Capabilities: ServerCapabilities{
			PluginKinds:     []string{string(runtime.Parser), string(runtime.ByteSource)},
			BuiltinParsers:  []string{builtinText},
			Cancellation:    true,
			Progress:        true,
			MaxFrameBytes:   MaxOutFrame,
			MaxInFrameBytes: MaxInFrame,
			MaxGrabCount:    MaxGrabCount,
		},
	}, nil
}

func (s *Server) initializedNotification(context.Context, *struct{}) (any, error) { return nil, nil }

// shutdownRequest refuses requests from now on, lets the work requests
// received before it finish (up to EOFGrace: a grab pipelined just before
// shutdown gets its rows), then closes every session. It runs on the read
// loop, so nothing is read meanwhile.
func (s *Server) shutdownRequest(ctx context.Context, _ *struct{}) (*Null, error) {
	s.mu.Lock()
	s.shutdown = true
	s.mu.Unlock()
	if !s.answers.waitWork(ctx, s.opts.EOFGrace) {
		s.log.Warn().Dur("waited", s.opts.EOFGrace).Msg("shutdown: requests received before it still run; closing the sessions anyway")
	}
	s.sessions.closeAll(s)
	return nil, nil
}

func (s *Server) exitNotification(context.Context, *struct{}) (any, error) {
	// Requests still running are cancelled and answered before the process
	// goes (this runs on the read loop, so nothing new is read meanwhile).
	s.answerAll()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.exited {
		s.exited = true
		close(s.exitCh)
	}
	return nil, nil
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

// watchParent exits the serve loop when the client process dies.
func (s *Server) watchParent(pid int) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.baseCtx.Done():
			return
		case <-t.C:
			if !processAlive(pid) {
				s.log.Warn().Int("pid", pid).Msg("client process is gone; exiting")
				_, _ = s.exitNotification(context.Background(), nil)
				return
			}
		}
	}
}

// watchPlugins polls the plugin roots and sends plugins/changed when a
// plugin directory or binary changes.
func (s *Server) watchPlugins(last string) {
	t := time.NewTicker(s.opts.WatchInterval)
	defer t.Stop()
	for {
		select {
		case <-s.baseCtx.Done():
			return
		case <-t.C:
			roots := s.roots()
			sig := rootsSignature(roots)
			if sig != last {
				last = sig
				s.plugins.invalidate()
				s.notify(MethodPluginsChanged, PluginsChangedParams{Roots: roots})
			}
		}
	}
}

// rootsSignature summarises the plugin directories under roots (names,
// sizes and modification times of their files).
func rootsSignature(roots []string) string {
	var b strings.Builder
	for _, d := range runtime.PluginDirs(roots, "") {
		files, _ := os.ReadDir(d.Path)
		for _, f := range files {
			if fi, err := f.Info(); err == nil {
				fmt.Fprintf(&b, "%s/%s %d %d\n", d.Path, f.Name(), fi.Size(), fi.ModTime().UnixNano())
			}
		}
	}
	return b.String()
}

// codec is the payload codec: encoding/json (v1) with raw passthrough. v1
// matches the json tags of schema and runtime and tolerates what
// hand-written clients send (duplicate keys, different key case).
type codec struct{}

func (codec) Marshal(v any) ([]byte, error) {
	switch m := v.(type) {
	case jsonrpc2.RawMessage:
		if m == nil {
			return []byte("null"), nil
		}
		return m, nil
	case json.RawMessage:
		if m == nil {
			return []byte("null"), nil
		}
		return m, nil
	}
	return json.Marshal(v)
}

func (codec) Unmarshal(data []byte, v any) error {
	switch m := v.(type) {
	case *jsonrpc2.RawMessage:
		*m = append((*m)[:0], data...)
		return nil
	case *json.RawMessage:
		*m = append((*m)[:0], data...)
		return nil
	}
	return json.Unmarshal(data, v)
}

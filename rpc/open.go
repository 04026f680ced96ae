package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/chiphost/chiphost/rpc/protocol"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"
	"github.com/chiphost/chiphost/schema"
)

// sessions/open in steps: check the params (checkOpenParams), resolve and
// validate everything they name (planOpen), and only then create the
// session (newSession: id, directory, row store), its source and its
// parser (startSession), which starts parsing. A failure after newSession
// undoes what was created (abandon).

// openPlan is what sessions/open resolved and checked before creating
// anything.
type openPlan struct {
	src           protocol.SourceSpec
	parser        *runtime.Plugin // nil: the built-in text parser
	parserCfg     []schema.Setting
	source        *runtime.Plugin // nil: a file or the input stream
	sourceCfg     []schema.Setting
	producer      *runtime.Plugin // set: a producer session (no source, no parser)
	producerCfg   []schema.Setting
	level         runtime.LogLevel // handed to the plugins' init
	progressToken any
}

func (s *Server) sessionsOpen(ctx context.Context, p *protocol.SessionsOpenParams) (res *protocol.SessionsOpenResult, err error) {
	prog := newProgress(s, p.WorkDoneToken)
	prog.begin("opening session")
	ctx = runtime.WithCompileTrace(ctx, prog.compileTrace())
	defer func() {
		switch {
		case err != nil:
			prog.end("failed: " + err.Error())
		default:
			prog.end("session " + res.Session + " open")
		}
	}()
	return s.openSession(ctx, p)
}

// openSession is sessions/open without progress.
func (s *Server) openSession(ctx context.Context, p *protocol.SessionsOpenParams) (*protocol.SessionsOpenResult, error) {
	if err := checkOpenParams(p); err != nil {
		return nil, err
	}
	plan, err := s.planOpen(ctx, p)
	if err != nil {
		return nil, err
	}
	sess, runCtx, err := s.newSession()
	if err != nil {
		return nil, err
	}
	res, err := s.startSession(ctx, runCtx, sess, plan)
	if err != nil {
		s.abandon(sess)
		return nil, err
	}
	zerolog.Ctx(ctx).Info().Str("session", sess.id).Str("dir", sess.dir).Msg("session opened")
	return res, nil
}

// checkOpenParams checks the shape of sessions/open params: one source,
// one parser, and only the options that fit them.
func checkOpenParams(p *protocol.SessionsOpenParams) error {
	if p.Producer != nil {
		return checkProducerParams(p)
	}
	src, par := p.Source, p.Parser
	switch {
	case countTrue(src.File != "", src.Stdin, src.Plugin != "") != 1:
		return invalidParams("source: want exactly one of file, stdin or plugin")
	case (par.Plugin != "") == (par.Builtin != ""):
		return invalidParams("parser: want exactly one of plugin or builtin")
	case par.Builtin != "" && par.Builtin != protocol.BuiltinText:
		return invalidParams("parser.builtin: unknown built-in parser %s (have: %s)", echo(par.Builtin), protocol.BuiltinText)
	case src.Follow && src.Stdin:
		return invalidParams("source.follow: stdin is always read until it ends; follow a file or a plugin source")
	case src.Plugin == "" && src.Config != nil:
		return invalidParams("source.config: only a plugin source takes a config")
	case par.Plugin == "" && par.Config != nil:
		return invalidParams("parser.config: only a plugin parser takes a config")
	}
	return nil
}

func countTrue(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// planOpen resolves the plugins of checked params and validates their
// configurations, checks the source file, and claims the input stream.
func (s *Server) planOpen(ctx context.Context, p *protocol.SessionsOpenParams) (*openPlan, error) {
	s.mu.Lock()
	plan := &openPlan{src: p.Source, level: s.pluginLevel, progressToken: p.ProgressToken}
	s.mu.Unlock()
	var err error
	if p.Producer != nil {
		plan.producer, plan.producerCfg, err = s.configuredPlugin(ctx, p.Producer.Plugin, runtime.Producer, p.Producer.Config)
		if err != nil {
			return nil, err
		}
		return plan, nil
	}
	if p.Parser.Plugin != "" {
		if plan.parser, plan.parserCfg, err = s.configuredPlugin(ctx, p.Parser.Plugin, runtime.Parser, p.Parser.Config); err != nil {
			return nil, err
		}
	}
	if p.Source.Plugin != "" {
		if plan.source, plan.sourceCfg, err = s.configuredPlugin(ctx, p.Source.Plugin, runtime.ByteSource, p.Source.Config); err != nil {
			return nil, err
		}
	}
	if p.Source.File != "" {
		if err := checkSourceFile(p.Source); err != nil {
			return nil, err
		}
	}
	if p.Source.Stdin {
		if err := s.claimInput(); err != nil {
			return nil, err
		}
	}
	return plan, nil
}

// configuredPlugin resolves a plugin of kind and validates its config.
func (s *Server) configuredPlugin(ctx context.Context, ref string, kind runtime.PluginKind, config map[string]json.RawMessage) (*runtime.Plugin, []schema.Setting, error) {
	_, pl, err := s.resolvePlugin(ctx, ref, kind)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := pluginConfig(pl, config)
	if err != nil {
		return nil, nil, err
	}
	return pl, cfg, nil
}

// checkSourceFile checks that a source file exists and can be read as
// asked: not a directory, and a regular file when followed.
func checkSourceFile(src protocol.SourceSpec) error {
	fi, err := os.Stat(src.File)
	switch {
	case err != nil:
		return notFound("source.file: %v", pathError(err))
	case fi.IsDir():
		return invalidParams("source.file: %s is a directory", echo(src.File))
	case src.Follow && !fi.Mode().IsRegular():
		return invalidParams("source.follow: %s is not a regular file; only regular files can be followed", echo(src.File))
	}
	return nil
}

// claimInput takes the server's input stream (Options.Input) for one
// session; it stays taken even if the session then fails to open.
func (s *Server) claimInput() error {
	s.mu.Lock()
	used := s.inputUsed || s.opts.Input == nil
	if !used {
		s.inputUsed = true
	}
	s.mu.Unlock()
	if used {
		return invalidParams("source.stdin: no input stream: the server's stdin carries the protocol; start chiphost with --input-fd N (usable by one session)")
	}
	return nil
}

// newSession creates a session, counted against MaxSessions: its id, its
// directory and row store, and its context (returned), derived from the
// server's. Nothing runs yet; abandon undoes it.
func (s *Server) newSession() (*session, context.Context, error) {
	if !s.sessions.reserve(s.opts.MaxSessions) {
		return nil, nil, limitError(limitSessions, fmt.Sprintf("%d sessions are open, the limit (chiphost --max-sessions): close one first", s.opts.MaxSessions))
	}
	s.sessions.mu.Lock()
	s.sessions.next++
	id := "s" + strconv.FormatUint(s.sessions.next, 10)
	s.sessions.mu.Unlock()
	dir, err := os.MkdirTemp(s.tempDir, id+"-")
	if err != nil {
		s.sessions.unreserve()
		return nil, nil, fmt.Errorf("creating session directory: %w", err)
	}
	store, err := newRowStore(dir)
	if err != nil {
		removeSessionDir(dir)
		s.sessions.unreserve()
		return nil, nil, err
	}
	runCtx, cancel := context.WithCancel(s.baseCtx)
	return &session{
		id: id, dir: dir, store: store, cancel: cancel, state: protocol.StateRunning,
		done: make(chan struct{}), upd: make(chan struct{}), creditCh: make(chan struct{}, 1),
		closed: make(chan struct{}), moved: make(chan struct{}, 1),
	}, runCtx, nil
}

// abandon undoes newSession and what startSession created before it
// failed: the plugin instances and open files, the files on disk and the
// reservation.
func (s *Server) abandon(sess *session) {
	for _, c := range sess.closes {
		c()
	}
	sess.cancel()
	sess.store.close()
	if err := removeSessionDir(sess.dir); err != nil {
		s.log.Warn().Str("session", sess.id).Err(err).Msg("removing the directory of a session that failed to open")
	}
	s.sessions.unreserve()
}

// startSession creates the session's source and parser, registers the
// session and starts its parse loop. Instances are initialised on the
// session's context, runCtx (they outlive this request), which the request
// cancels while they are created.
func (s *Server) startSession(ctx, runCtx context.Context, sess *session, plan *openPlan) (*protocol.SessionsOpenResult, error) {
	if plan.producer != nil {
		return s.startProducerSession(ctx, runCtx, sess, plan)
	}
	stop := context.AfterFunc(ctx, sess.cancel)
	defer stop()
	initCtx := runtime.WithCompileTrace(runCtx, runtime.CompileTraceFrom(ctx))
	source, err := s.openSource(initCtx, sess, plan)
	if err != nil {
		return nil, err
	}
	parser, res, err := s.openParser(initCtx, sess, plan)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if !stop() {
		return nil, context.Canceled
	}
	s.sessions.add(sess)
	s.startParseProgress(sess, plan.progressToken, plan.src)
	go s.runSession(runCtx, sess, func(ctx context.Context, sink driver.Sink, o *driver.Options) (driver.Stats, error) {
		return driver.Run(ctx, source, parser, sink, o)
	})
	go s.sessionUpdates(sess)
	return res, nil
}

// openSource opens the session's byte source: a file (followed or not), the
// server's input stream, or an instance of a bytesource plugin.
func (s *Server) openSource(ctx context.Context, sess *session, plan *openPlan) (driver.Source, error) {
	switch src := plan.src; {
	case src.File != "":
		return s.openFile(sess, src)
	case src.Stdin:
		return s.opts.Input, nil
	}
	si, err := plan.source.NewSource(ctx, initOptions(sess, plan.level, plan.sourceCfg))
	if err != nil {
		return nil, err
	}
	sess.closes = append(sess.closes, si.Close)
	sess.plugin = plan.source.Name
	sess.addInstance(si)
	if plan.src.Follow {
		return driver.FollowSource(si, s.followOptions(sess)), nil
	}
	return si, nil
}

// openFile opens a source file, followed (like tail -F) when asked.
func (s *Server) openFile(sess *session, src protocol.SourceSpec) (driver.Source, error) {
	if src.Follow {
		ff, err := driver.FollowFile(src.File, s.followOptions(sess))
		if err != nil {
			return nil, fileOpenError("source.file", err)
		}
		sess.closes = append(sess.closes, func() { ff.Close() })
		return ff, nil
	}
	fs, err := driver.OpenFile(src.File)
	if err != nil {
		return nil, fileOpenError("source.file", err)
	}
	sess.closes = append(sess.closes, func() { fs.Close() })
	return fs, nil
}

// followOptions make a followed source mark the session live once it has
// caught up.
func (s *Server) followOptions(sess *session) *driver.FollowOptions {
	log := s.log.With().Str("session", sess.id).Logger()
	return &driver.FollowOptions{CaughtUp: sess.caughtUp, Log: &log}
}

// openParser creates the session's parser, a plugin instance or the
// built-in text parser, and the result of sessions/open (a parser plugin's
// columns and render options).
func (s *Server) openParser(ctx context.Context, sess *session, plan *openPlan) (driver.Parser, *protocol.SessionsOpenResult, error) {
	res := &protocol.SessionsOpenResult{Session: sess.id}
	if plan.parser == nil {
		return &driver.TextParser{}, res, nil
	}
	pi, err := plan.parser.NewParser(ctx, initOptions(sess, plan.level, plan.parserCfg))
	if err != nil {
		return nil, nil, err
	}
	sess.closes = append(sess.closes, pi.Close)
	sess.plugin, sess.parser = plan.parser.Name, plan.parser.Name
	sess.addInstance(pi)
	if ro := plan.parser.RenderOptions; ro != nil {
		res.Columns = ro.Columns
		res.RenderOptions = ro
	}
	return pi, res, nil
}

// initOptions are a plugin instance's init options in session sess: its log
// lines are tagged with the session's id.
func initOptions(sess *session, level runtime.LogLevel, cfg []schema.Setting) *runtime.InitOptions {
	return &runtime.InitOptions{LogLevel: &level, LogTag: sess.id, Config: cfg}
}

// addInstance records a plugin instance's id (when the runtime exposes one)
// so that its log lines are attributed to the session.
func (sess *session) addInstance(x any) {
	if i, ok := x.(interface{ ID() uint64 }); ok {
		sess.insts = append(sess.insts, i.ID())
	}
}

package rpc

import (
	"context"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"

	"github.com/chiphost/chiphost/rpc/protocol"
	"github.com/chiphost/chiphost/runtime"
)

// initialize takes the client's options, starts watching the client
// process and the plugin roots, and answers with the server's capabilities.
func (s *Server) initialize(ctx context.Context, p *protocol.InitializeParams) (*protocol.InitializeResult, error) {
	level, dirs, err := clientOptions(p.InitializationOptions)
	if err != nil {
		return nil, err
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
	return &protocol.InitializeResult{
		ServerInfo:      protocol.ServerInfo{Name: protocol.ServerName, Version: s.opts.Version},
		ProtocolVersion: protocol.ProtocolVersion,
		Capabilities:    capabilities(),
	}, nil
}

// clientOptions reads initializationOptions: the plugin log level (default
// info) and the client's plugin roots, made absolute.
func clientOptions(o *protocol.InitializationOptions) (runtime.LogLevel, []string, error) {
	level := runtime.LevelInfo
	if o == nil {
		return level, nil, nil
	}
	if o.LogLevel != "" {
		l, err := runtime.ParseLogLevel(o.LogLevel)
		if err != nil {
			return 0, nil, invalidParams("initializationOptions.logLevel: unknown log level %s (want error, warn, info, debug or trace)", echo(o.LogLevel))
		}
		level = l
	}
	var dirs []string
	for _, d := range o.PluginDirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return 0, nil, invalidParams("initializationOptions.pluginDirs: %v", err)
		}
		dirs = append(dirs, abs)
	}
	return level, dirs, nil
}

// capabilities are what the server supports and its limits.
func capabilities() protocol.ServerCapabilities {
	return protocol.ServerCapabilities{
		PluginKinds:     []string{string(runtime.Parser), string(runtime.ByteSource), string(runtime.Producer)},
		BuiltinParsers:  []string{protocol.BuiltinText},
		Cancellation:    true,
		Progress:        true,
		MaxFrameBytes:   protocol.MaxOutFrame,
		MaxInFrameBytes: protocol.MaxInFrame,
		MaxGrabCount:    protocol.MaxGrabCount,
	}
}

func (s *Server) initializedNotification(context.Context, *struct{}) (any, error) { return nil, nil }

// shutdownRequest refuses requests from now on, lets the work requests
// received before it finish (up to EOFGrace: a grab pipelined just before
// shutdown gets its rows), then closes every session. It runs on the read
// loop, so nothing is read meanwhile.
func (s *Server) shutdownRequest(ctx context.Context, _ *struct{}) (*protocol.Null, error) {
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

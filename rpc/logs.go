package rpc

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/chiphost/chiphost/runtime"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// logForwarder turns plugin log lines into window/logMessage notifications,
// rate-limited to LogRate per second with bursts of as many (a token
// bucket, golang.org/x/time/rate); lines over the limit are counted and
// reported in one message as soon as the limit allows one more. PluginLog
// never blocks the plugin.
type logForwarder struct {
	s       *Server
	rate    int
	limiter *rate.Limiter
	ch      chan runtime.LogRecord
	dropCh  chan struct{} // signalled when PluginLog finds the queue full

	mu      sync.Mutex
	dropped int
	once    sync.Once
	stopCh  chan struct{}
	started bool
}

func (f *logForwarder) init(s *Server, perSecond int) {
	f.s, f.rate = s, perSecond
	f.limiter = rate.NewLimiter(rate.Limit(perSecond), perSecond)
	f.ch = make(chan runtime.LogRecord, 1024)
	f.dropCh = make(chan struct{}, 1)
	f.stopCh = make(chan struct{})
}

// PluginLog receives a plugin log line (runtime.Options.OnLog). It is safe
// for concurrent use and never blocks.
func (s *Server) PluginLog(r runtime.LogRecord) {
	s.mu.Lock()
	level := s.pluginLevel
	s.mu.Unlock()
	if r.Level > level && r.Source == runtime.FromLogImport {
		return
	}
	select {
	case s.logs.ch <- r:
	default:
		s.logs.drop()
		select {
		case s.logs.dropCh <- struct{}{}:
		default:
		}
	}
}

func (f *logForwarder) drop() {
	f.mu.Lock()
	f.dropped++
	f.mu.Unlock()
}

// takeDropped returns the lines dropped since the last call.
func (f *logForwarder) takeDropped() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.dropped
	f.dropped = 0
	return d
}

func (f *logForwarder) start() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.started {
		f.started = true
		go f.loop()
	}
}

func (f *logForwarder) stop() { f.once.Do(func() { close(f.stopCh) }) }

// loop forwards lines while the limiter allows. The first line dropped
// reserves the limiter's next token for the "lines dropped" message, which
// is sent when that token is due, with the count at that time.
func (f *logForwarder) loop() {
	var report <-chan time.Time // the reserved token is due; nil: none reserved
	reserve := func() {
		if report == nil {
			report = time.After(f.limiter.Reserve().Delay())
		}
	}
	for {
		select {
		case <-f.stopCh:
			return
		case <-f.dropCh:
			reserve()
		case <-report:
			report = nil
			if d := f.takeDropped(); d > 0 {
				f.s.notify(protocol.MethodLogMessage, protocol.LogMessageParams{Type: 2, Source: "host",
					Message: fmt.Sprintf("%d plugin log lines dropped (more than %d per second)", d, f.rate)})
			}
		case r := <-f.ch:
			if !f.limiter.Allow() {
				f.drop()
				reserve()
				continue
			}
			f.forward(r)
		}
	}
}

func (f *logForwarder) forward(r runtime.LogRecord) {
	session := r.Tag // the session id, set before the plugin's init runs
	if session == "" {
		session = f.s.sessions.sessionOf(r.Instance)
	}
	f.s.notify(protocol.MethodLogMessage, protocol.LogMessageParams{
		Type: messageType(r), Message: r.Message, Plugin: r.Plugin,
		Session: session, Source: string(r.Source),
	})
}

// messageType maps a plugin log level to an LSP MessageType.
func messageType(r runtime.LogRecord) int {
	switch r.Level {
	case runtime.LevelError:
		return 1
	case runtime.LevelWarn:
		return 2
	case runtime.LevelInfo:
		return 3
	case runtime.LevelDebug:
		return 4
	}
	return 5
}

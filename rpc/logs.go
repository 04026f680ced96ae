package rpc

import (
	"fmt"
	"sync"
	"time"

	"github.com/chiphost/chiphost/runtime"
)

// logForwarder turns plugin log lines into window/logMessage notifications,
// rate-limited to LogRate per second; lines over the limit are counted and
// reported in one message. PluginLog never blocks the plugin.
type logForwarder struct {
	s    *Server
	rate int
	ch   chan runtime.LogRecord

	mu      sync.Mutex
	dropped int
	once    sync.Once
	stopCh  chan struct{}
	started bool
}

func (f *logForwarder) init(s *Server, rate int) {
	f.s, f.rate = s, rate
	f.ch = make(chan runtime.LogRecord, 1024)
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
		s.logs.mu.Lock()
		s.logs.dropped++
		s.logs.mu.Unlock()
	}
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

// loop sends at most rate messages per second (token bucket, burst = rate).
func (f *logForwarder) loop() {
	tokens := f.rate
	refill := time.NewTicker(time.Second / time.Duration(max(f.rate, 1)))
	defer refill.Stop()
	for {
		select {
		case <-f.stopCh:
			return
		case <-refill.C:
			if tokens < f.rate {
				tokens++
			}
			f.mu.Lock()
			d := f.dropped
			if d > 0 && tokens > 0 {
				f.dropped = 0
			}
			f.mu.Unlock()
			if d > 0 && tokens > 0 {
				tokens--
				f.s.notify(MethodLogMessage, LogMessageParams{Type: 2, Source: "host",
					Message: fmt.Sprintf("%d plugin log lines dropped (more than %d per second)", d, f.rate)})
			}
		case r := <-f.ch:
			if tokens == 0 {
				f.mu.Lock()
				f.dropped++
				f.mu.Unlock()
				continue
			}
			tokens--
			session := r.Tag // the session id, set before the plugin's init runs
			if session == "" {
				session = f.s.sessions.sessionOf(r.Instance)
			}
			f.s.notify(MethodLogMessage, LogMessageParams{
				Type: messageType(r), Message: r.Message, Plugin: r.Plugin,
				Session: session, Source: string(r.Source),
			})
		}
	}
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

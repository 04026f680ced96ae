package rpc

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/runtime/driver"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// closeWait bounds how long closing a session waits for its parse loop.
const closeWait = 5 * time.Second

// sessionRegistry holds the open sessions.
type sessionRegistry struct {
	mu         sync.Mutex
	next       uint64
	byID       map[string]*session
	byInstance map[uint64]string
	opening    int // sessions being opened, counted against the limit
}

// reserve counts a session being opened against the limit of max open
// sessions; it fails when there is no room. Call add or unreserve after.
func (r *sessionRegistry) reserve(max int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.byID)+r.opening >= max {
		return false
	}
	r.opening++
	return true
}

func (r *sessionRegistry) unreserve() {
	r.mu.Lock()
	r.opening--
	r.mu.Unlock()
}

// add registers a session opened with a reservation.
func (r *sessionRegistry) add(sess *session) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opening--
	r.byID[sess.id] = sess
	for _, iid := range sess.insts {
		r.byInstance[iid] = sess.id
	}
}

func (r *sessionRegistry) init() {
	r.byID = map[string]*session{}
	r.byInstance = map[uint64]string{}
}

// count returns the number of open sessions.
func (r *sessionRegistry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

func (r *sessionRegistry) get(id string) (*session, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sess, ok := r.byID[id]; ok {
		return sess, nil
	}
	return nil, notFound("session %s: no such session", echo(id))
}

// sessionOf maps a plugin instance to its session id ("" if unknown).
func (r *sessionRegistry) sessionOf(instance uint64) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byInstance[instance]
}

func (r *sessionRegistry) credit(id string, rows uint64) {
	r.mu.Lock()
	sess := r.byID[id]
	r.mu.Unlock()
	if sess != nil {
		sess.addCredits(rows)
	}
}

// closeAll closes every session and removes its files.
func (r *sessionRegistry) closeAll(s *Server) {
	r.mu.Lock()
	all := make([]*session, 0, len(r.byID))
	for _, sess := range r.byID {
		all = append(all, sess)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, sess := range all {
		wg.Go(func() { s.closeSession(sess) })
	}
	wg.Wait()
}

// session is one open session: a source, a parser, a parse loop on its own
// goroutine and an on-disk row store.
type session struct {
	id     string
	dir    string
	plugin string // parser (or source) plugin name, for errors
	parser string // parser plugin name (empty for the built-in parser), for warnings
	store  *rowStore
	cancel context.CancelFunc
	done   chan struct{} // closed when the parse loop has ended
	upd    chan struct{} // closed when the updates goroutine has ended
	closes []func()
	insts  []uint64

	mu      sync.Mutex
	state   string
	err     error
	stats   driver.Stats  // the driver's stats: live while running, final after
	moved   chan struct{} // signalled (cap 1) when the stats change
	closing bool
	closed  chan struct{} // closed when closeSession has finished

	searches []*searchRun // open searches (searches.go), guarded by mu

	parseProgress *parseProgress // $/progress of the parse (nil without a progressToken)

	streaming atomic.Bool
	cmu       sync.Mutex
	credits   uint64
	creditCh  chan struct{} // signalled (cap 1) when credits are added
}

func (sess *session) addCredits(n uint64) {
	sess.cmu.Lock()
	sess.credits = addSaturating(sess.credits, n)
	sess.cmu.Unlock()
	select {
	case sess.creditCh <- struct{}{}:
	default:
	}
}

// takeCredits returns up to max credits, removing them from the window.
func (sess *session) takeCredits(max uint64) uint64 {
	sess.cmu.Lock()
	defer sess.cmu.Unlock()
	n := min(sess.credits, max)
	sess.credits -= n
	return n
}

func (sess *session) returnCredits(n uint64) {
	sess.cmu.Lock()
	sess.credits = addSaturating(sess.credits, n)
	sess.cmu.Unlock()
}

// addSaturating returns a+b, or the largest uint64 when the sum overflows:
// a window granted past 2^64-1 stays unlimited instead of wrapping to a
// few rows.
func addSaturating(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return math.MaxUint64
}

// snapshot returns the session's progress for sessions/updated.
func (sess *session) snapshot() protocol.SessionsUpdatedParams {
	rows, _ := sess.store.count()
	sess.mu.Lock()
	defer sess.mu.Unlock()
	p := protocol.SessionsUpdatedParams{
		Session: sess.id, Rows: rows, Bytes: sess.stats.Bytes, State: sess.state,
		SkippedBytes: sess.stats.SkippedBytes, ParseErrors: sess.stats.ParseErrors,
		TruncatedRows: sess.stats.TruncatedRows, CutDependentRows: sess.stats.CutDependentRows,
	}
	if sess.err != nil {
		p.Error = errorData(sess.err, sess.plugin)
	}
	return p
}

// progress records the driver's stats while the session runs.
func (sess *session) progress(st driver.Stats) {
	sess.mu.Lock()
	sess.stats = st
	sess.mu.Unlock()
	select {
	case sess.moved <- struct{}{}:
	default:
	}
	sess.parseProgress.signal()
}

// caughtUp marks a followed session live: it has stored the rows of
// everything its source held and waits for more. Called by the source, on
// the parse loop's goroutine.
func (sess *session) caughtUp() {
	sess.mu.Lock()
	changed := sess.state == protocol.StateRunning
	if changed {
		sess.state = protocol.StateLive
	}
	sess.mu.Unlock()
	if changed {
		select {
		case sess.moved <- struct{}{}:
		default:
		}
	}
}

// active reports whether a session in state may still get rows.
func active(state string) bool { return state == protocol.StateRunning || state == protocol.StateLive }

// runSession is the session's parse loop: run is driver.Run over the
// session's source and parser, or driver.RunProducer over its producer.
func (s *Server) runSession(ctx context.Context, sess *session, run func(context.Context, driver.Sink, *driver.Options) (driver.Stats, error)) {
	defer close(sess.done)
	stats, err := run(ctx, sess.store, &driver.Options{Progress: sess.progress})
	for _, c := range sess.closes {
		c()
	}
	sess.closes = nil // the instances' buffers go with them
	sess.store.finish()
	s.memory.request() // the plugin instances and parse buffers are garbage now
	sess.mu.Lock()
	defer sess.mu.Unlock()
	sess.stats = stats
	if stats.TruncatedRows > 0 {
		s.log.Warn().Str("session", sess.id).Uint64("rows", stats.TruncatedRows).Int("maxRowBytes", driver.DefaultMaxRowBytes).Msg("rows longer than the maximum row size were cut")
	}
	if stats.CutDependentRows > 0 {
		s.log.Warn().Str("session", sess.id).Str("plugin", sess.parser).Uint64("rows", stats.CutDependentRows).Msg(stats.CutDependentWarning())
	}
	switch {
	case sess.closing:
		sess.state = protocol.StateClosed
	case err != nil:
		sess.state, sess.err = protocol.StateFailed, err
		s.log.Warn().Str("session", sess.id).Err(err).Msg("session failed")
	default:
		sess.state = protocol.StateDone
	}
}

// sessionUpdates sends sessions/updated notifications while the session
// runs and one with the final state when it ends. The first rows after a
// quiet spell are announced at once; after that, notifications are at least
// UpdateInterval apart, so a busy session sends a bounded number of them.
func (s *Server) sessionUpdates(sess *session) {
	defer close(sess.upd)
	last := protocol.SessionsUpdatedParams{State: protocol.StateRunning}
	var lastSent time.Time
	for {
		select {
		case <-sess.done:
			s.notifyEnd(sess)
			return
		case <-sess.moved:
		}
		if wait := s.opts.UpdateInterval - time.Since(lastSent); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-sess.done:
				t.Stop()
				s.notifyEnd(sess)
				return
			case <-t.C:
			}
		}
		p := sess.snapshot()
		if !active(p.State) {
			continue // the run has ended: the final update follows, once
		}
		if p.Rows != last.Rows || p.Bytes != last.Bytes || p.ParseErrors != last.ParseErrors || p.SkippedBytes != last.SkippedBytes || p.State != last.State {
			last, lastSent = p, time.Now()
			s.notify(protocol.MethodSessionsUpdated, p)
		}
	}
}

// notifyEnd sends the update of a session whose parse loop has ended,
// unless it ended because the session is being closed: closeSession sends
// that one, so a client gets exactly one update with state closed.
func (s *Server) notifyEnd(sess *session) {
	if p := sess.snapshot(); p.State != protocol.StateClosed {
		s.notify(protocol.MethodSessionsUpdated, p)
	}
}

// closeSession closes the session's searches, stops it, removes its files
// and sends a final sessions/updated with state closed.
func (s *Server) closeSession(sess *session) {
	sess.mu.Lock()
	if sess.closing {
		sess.mu.Unlock()
		<-sess.closed // another caller is closing it: wait until it is done
		return
	}
	sess.closing = true
	sess.mu.Unlock()
	defer close(sess.closed)
	s.closeSearches(sess) // first: a live search must not see the end of the rows as done
	sess.cancel()
	select {
	case <-sess.done:
	case <-time.After(closeWait):
		s.log.Error().Str("session", sess.id).Msg("parse loop did not stop in time; removing the session anyway")
	}
	select {
	case <-sess.upd:
	case <-time.After(closeWait):
	}
	sess.store.close()
	if err := removeSessionDir(sess.dir); err != nil {
		s.log.Warn().Str("session", sess.id).Err(err).Msg("removing session directory")
	}
	s.sessions.mu.Lock()
	delete(s.sessions.byID, sess.id)
	for _, iid := range sess.insts {
		delete(s.sessions.byInstance, iid)
	}
	s.sessions.mu.Unlock()
	sess.mu.Lock()
	if active(sess.state) {
		sess.state = protocol.StateClosed
	}
	final := sess.snapshotLocked()
	sess.mu.Unlock()
	final.State = protocol.StateClosed
	s.notify(protocol.MethodSessionsUpdated, final)
	s.addCreditsWake(sess)
	s.memory.request()
}

// addCreditsWake wakes a stream waiting for credits so it sees the close.
func (s *Server) addCreditsWake(sess *session) {
	select {
	case sess.creditCh <- struct{}{}:
	default:
	}
}

// snapshotLocked is snapshot with sess.mu held (the store may be closed).
func (sess *session) snapshotLocked() protocol.SessionsUpdatedParams {
	p := protocol.SessionsUpdatedParams{
		Session: sess.id, Rows: sess.store.rowsCommitted(), Bytes: sess.stats.Bytes, State: sess.state,
		SkippedBytes: sess.stats.SkippedBytes, ParseErrors: sess.stats.ParseErrors,
		TruncatedRows: sess.stats.TruncatedRows, CutDependentRows: sess.stats.CutDependentRows,
	}
	if sess.err != nil {
		p.Error = errorData(sess.err, sess.plugin)
	}
	return p
}

func (s *Server) sessionsClose(ctx context.Context, p *protocol.SessionsCloseParams) (*protocol.Null, error) {
	sess, err := s.sessions.get(p.Session)
	if err != nil {
		return nil, err
	}
	s.closeSession(sess)
	return nil, nil
}

func (s *Server) sessionsGrab(ctx context.Context, p *protocol.SessionsGrabParams) (jsonrpc2.RawMessage, error) {
	sess, err := s.sessions.get(p.Session)
	if err != nil {
		return nil, err
	}
	if p.Count > protocol.MaxGrabCount {
		return nil, invalidParams("count: %d exceeds the limit of %d rows per grab", p.Count, protocol.MaxGrabCount)
	}
	buf := make([]byte, 0, 4096)
	buf = append(buf, `{"items":[`...)
	buf, _, err = sess.store.read(buf, p.Start, p.Count, protocol.MaxOutFrame-64)
	if err != nil {
		if errors.Is(err, errClosedStore) {
			return nil, wireError(protocol.CodeSessionClosed, "session "+sess.id+" is closed", &protocol.ErrorData{Kind: string(runtime.KindClosed), Detail: "session closed"})
		}
		return nil, err
	}
	return append(buf, "]}"...), nil
}

package rpc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/chiphost/chiphost/internal/search"
	"github.com/chiphost/chiphost/runtime"
	"github.com/chiphost/chiphost/schema"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// Searches (searches/*): each search runs a compiled filter
// (internal/search) over its session's text store (rowstore.go) on its own
// goroutine, and a second goroutine sends its searches/updated. Grabs read
// the matching rows from the session's row store (searchgrab.go).

// searchRegistry holds the open searches of every session.
type searchRegistry struct {
	mu   sync.Mutex
	next uint64
	byID map[string]*searchRun
}

func (r *searchRegistry) init() { r.byID = map[string]*searchRun{} }

func (r *searchRegistry) get(id string) (*searchRun, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if run, ok := r.byID[id]; ok {
		return run, nil
	}
	return nil, notFound("search %s: no such search", echo(id))
}

// newID returns the id of a new search.
func (r *searchRegistry) newID() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	return "q" + strconv.FormatUint(r.next, 10)
}

func (r *searchRegistry) add(run *searchRun) {
	r.mu.Lock()
	r.byID[run.id] = run
	r.mu.Unlock()
}

func (r *searchRegistry) remove(id string) {
	r.mu.Lock()
	delete(r.byID, id)
	r.mu.Unlock()
}

// searchRun is one open search.
type searchRun struct {
	id      string
	sess    *session
	matcher *search.Matcher
	eng     *search.Search
	moved   chan struct{} // signalled (cap 1) when the engine reports progress
	upd     chan struct{} // closed when the updates goroutine has ended
	prog    *searchProgress

	mu      sync.Mutex
	closing bool
	closed  chan struct{} // closed when closeSearch has finished
}

// signal is the engine's progress callback: it wakes the updates goroutine
// without ever blocking the search.
func (run *searchRun) signal(search.Progress) {
	select {
	case run.moved <- struct{}{}:
	default:
	}
}

// snapshot returns the search's progress for searches/updated.
func (run *searchRun) snapshot() protocol.SearchesUpdatedParams {
	p := run.eng.Progress()
	u := protocol.SearchesUpdatedParams{
		Search: run.id, Session: run.sess.id, State: wireSearchState(p.State),
		Matches: p.Matches, RowsSearched: p.RowsSearched,
	}
	if p.State == search.StateFailed && p.Err != nil {
		u.Error = errorData(p.Err, "")
	}
	return u
}

// wireSearchState is the protocol's name of an engine state. A search the
// engine cancelled was closed (searches/close, its session closed, or the
// server ending).
func wireSearchState(st search.State) string {
	switch st {
	case search.StateLive:
		return protocol.StateLive
	case search.StateDone:
		return protocol.StateDone
	case search.StateFailed:
		return protocol.StateFailed
	case search.StateCancelled:
		return protocol.StateClosed
	}
	return protocol.StateRunning
}

func (s *Server) searchesOpen(ctx context.Context, p *protocol.SearchesOpenParams) (*protocol.SearchesOpenResult, error) {
	filter, err := searchFilter(p)
	if err != nil {
		return nil, err
	}
	m, err := search.Compile(filter)
	if err != nil {
		return nil, queryError(p, err)
	}
	sess, err := s.sessions.get(p.Session)
	if err != nil {
		return nil, err
	}
	run, err := s.startSearch(sess, m, p.ProgressToken)
	if err != nil {
		return nil, err
	}
	return &protocol.SearchesOpenResult{Search: run.id}, nil
}

// startSearch registers a search of sess and starts it, unless the session
// is being closed or has as many searches as it may. The begin of its
// progress is sent before its first update.
func (s *Server) startSearch(sess *session, m *search.Matcher, token any) (*searchRun, error) {
	run := &searchRun{
		id: s.searches.newID(), sess: sess, matcher: m,
		moved: make(chan struct{}, 1), upd: make(chan struct{}), closed: make(chan struct{}),
	}
	if err := s.registerSearch(sess, run, token); err != nil {
		return nil, err
	}
	run.prog.begin()
	go s.searchUpdates(run)
	return run, nil
}

// registerSearch starts the engine of run and adds run to its session and
// to the server, with sess.mu held: a session being closed gets no new
// search, and closing it finds every search it has.
func (s *Server) registerSearch(sess *session, run *searchRun, token any) error {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	switch {
	case sess.closing:
		return sessionClosedError(sess)
	case len(sess.searches) >= protocol.MaxSearchesPerSession:
		return limitError(limitSearches, fmt.Sprintf("session %s has %d searches open, the limit: close one first", sess.id, protocol.MaxSearchesPerSession))
	}
	total := int64(-1)
	if !active(sess.state) {
		total = int64(sess.store.rowsCommitted()) // every row is stored: the percentage is known
	}
	run.prog = newSearchProgress(s, run.id, token, total)
	run.eng = search.Start(s.baseCtx, sess.store.text, run.matcher, run.signal)
	sess.searches = append(sess.searches, run)
	s.searches.add(run)
	return nil
}

// sessionClosedError is CodeSessionClosed for a session being closed.
func sessionClosedError(sess *session) error {
	return wireError(protocol.CodeSessionClosed, "session "+sess.id+" is closed", &protocol.ErrorData{Kind: string(runtime.KindClosed), Detail: "session closed"})
}

// searchFilter checks the shape of searches/open params and returns the
// filter they describe.
func searchFilter(p *protocol.SearchesOpenParams) (search.Filter, error) {
	var f search.Filter
	queries := p.Queries
	switch {
	case (p.Query == nil) == (len(p.Queries) == 0):
		return f, invalidParams("want exactly one of query or queries (a non-empty list)")
	case p.Query != nil && p.Combine != "":
		return f, invalidParams("combine: only with queries")
	case len(p.Queries) > protocol.MaxQueries:
		return f, invalidParams("queries: %d queries, at most %d", len(p.Queries), protocol.MaxQueries)
	case p.Query != nil:
		queries = []protocol.SearchQuery{*p.Query}
	}
	switch p.Combine {
	case "", protocol.CombineAny:
		f.Combine = search.CombineAny
	case protocol.CombineAll:
		f.Combine = search.CombineAll
	default:
		return f, invalidParams("combine: %s is not any or all", echo(p.Combine))
	}
	for i, q := range queries {
		sq, err := searchQuery(queryField(p, i), q)
		if err != nil {
			return f, err
		}
		f.Queries = append(f.Queries, sq)
	}
	return f, nil
}

// queryField names query i of p as the client wrote it.
func queryField(p *protocol.SearchesOpenParams, i int) string {
	if p.Query != nil {
		return "query"
	}
	return fmt.Sprintf("queries[%d]", i)
}

// searchQuery checks one query (field names it) and converts it.
func searchQuery(field string, q protocol.SearchQuery) (search.Query, error) {
	sq := search.Query{Pattern: q.Pattern, CaseSensitive: q.CaseSensitive, WholeWord: q.WholeWord, Invert: q.Invert}
	switch q.Kind {
	case "", protocol.QueryLiteral:
		sq.Kind = search.KindLiteral
	case protocol.QueryRegex:
		sq.Kind = search.KindRegex
	default:
		return sq, invalidParams("%s.kind: %s is not literal or regex", field, echo(q.Kind))
	}
	if len(q.Pattern) > protocol.MaxPatternBytes { // the engine's limit too (search.MaxPatternBytes), said the same way
		return sq, invalidParams("%s.pattern: %d bytes, at most %d", field, len(q.Pattern), protocol.MaxPatternBytes)
	}
	for _, c := range q.Columns {
		if c < 0 {
			return sq, invalidParams("%s.columns: %d is not a column index (0 or more)", field, c)
		}
	}
	if q.Columns != nil {
		sq.Columns = append([]int{}, q.Columns...)
	}
	return sq, nil
}

// queryError maps the engine's compile error to -32602: the query, the
// position in its pattern when known, and the reason.
func queryError(p *protocol.SearchesOpenParams, err error) error {
	var qe *search.QueryError
	if !errors.As(err, &qe) {
		return invalidParams("query: %v", err)
	}
	field := queryField(p, qe.Query) + ".pattern"
	if qe.Query < 0 { // the filter as a whole
		return invalidParams("queries: %s", qe.Reason)
	}
	where := ""
	var pos *int
	if qe.Pos >= 0 {
		where = fmt.Sprintf(" at byte %d", qe.Pos)
		pos = new(qe.Pos)
	}
	msg := fmt.Sprintf("%s: invalid pattern%s: %s", field, where, qe.Reason)
	d := &protocol.ErrorData{Kind: string(runtime.KindConfig), Detail: msg, Position: pos,
		Errors: []schema.FieldError{{Field: field, Message: clip(qe.Reason, maxErrorText)}}}
	return wireError(protocol.CodeInvalidParams, msg, d)
}

// searchUpdates sends searches/updated notifications while the search runs,
// rate-limited as sessionUpdates does, and one when it ends (unless it was
// closed: closeSearch sends that one).
func (s *Server) searchUpdates(run *searchRun) {
	defer close(run.upd)
	last := protocol.SearchesUpdatedParams{State: protocol.StateRunning}
	var lastSent time.Time
	first := true
	for {
		select {
		case <-run.eng.Done():
			s.searchEnded(run)
			return
		case <-run.moved:
		}
		if wait := s.opts.UpdateInterval - time.Since(lastSent); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-run.eng.Done():
				t.Stop()
				s.searchEnded(run)
				return
			case <-t.C:
			}
		}
		p := run.snapshot()
		if !active(p.State) {
			continue // the search has ended: the final update follows, once
		}
		if first || p.Matches != last.Matches || p.RowsSearched != last.RowsSearched || p.State != last.State {
			first, last, lastSent = false, p, time.Now()
			s.notify(protocol.MethodSearchesUpdated, p)
			run.prog.report(p)
		}
	}
}

// searchEnded sends the final update of a search the engine has ended,
// unless it is being closed (closeSearch then sends the one with state
// closed), and ends its progress.
func (s *Server) searchEnded(run *searchRun) {
	run.mu.Lock()
	closing := run.closing
	run.mu.Unlock()
	p := run.snapshot()
	if closing || p.State == protocol.StateClosed {
		return
	}
	s.notify(protocol.MethodSearchesUpdated, p)
	run.prog.finish(p)
}

// closeSearch stops a search, forgets it and sends its final
// searches/updated with state closed. It waits for a concurrent close.
func (s *Server) closeSearch(run *searchRun) {
	run.mu.Lock()
	if run.closing {
		run.mu.Unlock()
		<-run.closed
		return
	}
	run.closing = true
	run.mu.Unlock()
	defer close(run.closed)
	run.eng.Close()
	select {
	case <-run.upd:
	case <-time.After(closeWait):
		s.log.Error().Str("search", run.id).Msg("search updates did not stop in time")
	}
	s.searches.remove(run.id)
	run.sess.forgetSearch(run)
	final := run.snapshot()
	final.State = protocol.StateClosed
	final.Error = nil
	s.notify(protocol.MethodSearchesUpdated, final)
	run.prog.finish(final)
}

// forgetSearch removes run from the session's searches.
func (sess *session) forgetSearch(run *searchRun) {
	sess.mu.Lock()
	defer sess.mu.Unlock()
	for i, r := range sess.searches {
		if r == run {
			sess.searches = append(sess.searches[:i], sess.searches[i+1:]...)
			return
		}
	}
}

// closeSearches closes every search of a session (the session is closing:
// no search can be added any more).
func (s *Server) closeSearches(sess *session) {
	sess.mu.Lock()
	runs := append([]*searchRun(nil), sess.searches...)
	sess.mu.Unlock()
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Go(func() { s.closeSearch(run) })
	}
	wg.Wait()
}

func (s *Server) searchesClose(ctx context.Context, p *protocol.SearchesCloseParams) (*protocol.Null, error) {
	run, err := s.searches.get(p.Search)
	if err != nil {
		return nil, err
	}
	s.closeSearch(run)
	return nil, nil
}

func (s *Server) searchesNearest(ctx context.Context, p *protocol.SearchesNearestParams) (*protocol.SearchesNearestResult, error) {
	run, err := s.searches.get(p.Search)
	if err != nil {
		return nil, err
	}
	var forward bool
	switch p.Direction {
	case protocol.DirectionForward:
		forward = true
	case protocol.DirectionBackward:
	default:
		return nil, invalidParams("direction: %s is not forward or backward", echo(p.Direction))
	}
	match, row, ok := run.eng.Nearest(p.Row, forward)
	if !ok {
		return &protocol.SearchesNearestResult{}, nil
	}
	return &protocol.SearchesNearestResult{Found: true, Match: &match, Row: &row}, nil
}

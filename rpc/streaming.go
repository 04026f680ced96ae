package rpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// sessionsStream pushes a session's rows in order as sessions/items
// notifications of at most MaxOutFrame bytes, never more rows than the
// client granted (the request's credits plus sessions/credit
// notifications). It answers when every row of a finished session was sent,
// when the session is closed, or with -32800 when cancelled.
func (s *Server) sessionsStream(ctx context.Context, p *protocol.SessionsStreamParams) (*protocol.SessionsStreamResult, error) {
	sess, err := s.sessions.get(p.Session)
	if err != nil {
		return nil, err
	}
	if !sess.streaming.CompareAndSwap(false, true) {
		return nil, wireError(protocol.CodeRequestFailed, "session "+sess.id+" already has a stream", &protocol.ErrorData{Kind: "unsupported", Detail: "one stream per session at a time"})
	}
	defer sess.streaming.Store(false)
	initial := p.Credits.Window(protocol.DefaultCredits)
	sess.cmu.Lock()
	sess.credits = initial
	sess.cmu.Unlock()

	st := &rowStream{s: s, sess: sess, prog: newProgress(s, p.WorkDoneToken), next: p.From, buf: make([]byte, 0, 64<<10)}
	st.prog.begin("streaming " + sess.id)
	return st.run(ctx)
}

// rowStream is one running sessions/stream.
type rowStream struct {
	s    *Server
	sess *session
	prog *progress
	next uint64 // index of the next row to send
	sent uint64 // rows sent
	buf  []byte // the frame being built
}

// run sends rows as they are stored and credits allow, until the session
// has ended and every row was sent, or it is closed, or ctx is cancelled.
func (st *rowStream) run(ctx context.Context) (*protocol.SessionsStreamResult, error) {
	for {
		rows, changed := st.sess.store.count()
		st.sess.mu.Lock()
		state, closing := st.sess.state, st.sess.closing
		st.sess.mu.Unlock()
		switch {
		case closing:
			return st.result(protocol.StateClosed), nil
		case st.next < rows:
			if closed, err := st.send(ctx, rows); closed || err != nil {
				if err != nil {
					return nil, err
				}
				return st.result(protocol.StateClosed), nil
			}
			continue
		case !active(state):
			return st.result(state), nil
		}
		select {
		case <-ctx.Done():
			return nil, st.cancelled(ctx)
		case <-changed:
		case <-st.sess.done:
		case <-st.sess.creditCh: // also signalled by close
		}
	}
}

// send sends one sessions/items frame of the rows from st.next (below
// rows) that the credits allow, or waits for credits when there are none.
// closed reports that the session's store was closed meanwhile.
func (st *rowStream) send(ctx context.Context, rows uint64) (closed bool, err error) {
	n := st.sess.takeCredits(min(rows-st.next, protocol.MaxGrabCount))
	if n == 0 { // wait for sessions/credit
		select {
		case <-ctx.Done():
			return false, st.cancelled(ctx)
		case <-st.sess.creditCh:
		}
		return false, nil
	}
	st.buf = st.buf[:0]
	st.buf = append(st.buf, `{"session":`...)
	st.buf = appendString(st.buf, st.sess.id)
	st.buf = append(st.buf, `,"start":`...)
	st.buf = appendUint(st.buf, st.next)
	st.buf = append(st.buf, `,"items":[`...)
	var got uint64
	st.buf, got, err = st.sess.store.read(st.buf, st.next, n, protocol.MaxOutFrame-256)
	if errors.Is(err, errClosedStore) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	st.sess.returnCredits(n - got)
	st.buf = append(st.buf, "]}"...)
	// Notify blocks while the client does not read: that is the
	// backpressure; ctx still interrupts between frames.
	if err := st.s.conn.Notify(ctx, protocol.MethodSessionsItems, jsonrpc2.RawMessage(st.buf)); err != nil {
		return false, toWire(ctx, err, st.sess.plugin)
	}
	st.next += got
	st.sent += got
	st.prog.report(fmt.Sprintf("%d rows sent", st.sent))
	return false, nil
}

// cancelled ends the progress of a cancelled stream and returns its error.
func (st *rowStream) cancelled(ctx context.Context) error {
	st.prog.end("cancelled")
	return toWire(ctx, ctx.Err(), st.sess.plugin)
}

// result is the stream's answer when it ends in state.
func (st *rowStream) result(state string) *protocol.SessionsStreamResult {
	r := &protocol.SessionsStreamResult{Session: st.sess.id, Rows: st.sent, Next: st.next, State: state}
	if state == protocol.StateFailed {
		st.sess.mu.Lock()
		r.Error = errorData(st.sess.err, st.sess.plugin)
		st.sess.mu.Unlock()
	}
	st.prog.end(fmt.Sprintf("%d rows sent", st.sent))
	return r
}

func appendUint(b []byte, v uint64) []byte {
	return fmt.Appendf(b, "%d", v)
}

// progress sends LSP work-done progress for a request that carried a
// workDoneToken; reports are coalesced to 5 per second.
type progress struct {
	s     *Server
	token any
	last  time.Time
	ended bool
}

func newProgress(s *Server, token any) *progress {
	return &progress{s: s, token: token}
}

func (p *progress) send(v protocol.ProgressValue) {
	if p.token == nil || p.ended {
		return
	}
	p.s.notify(protocol.MethodProgress, protocol.ProgressParams{Token: p.token, Value: v})
}

func (p *progress) begin(title string) {
	p.send(protocol.ProgressValue{Kind: "begin", Title: title})
	p.last = time.Now()
}

func (p *progress) report(msg string) {
	if time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.send(protocol.ProgressValue{Kind: "report", Message: msg})
}

func (p *progress) end(msg string) {
	p.send(protocol.ProgressValue{Kind: "end", Message: msg})
	p.ended = true
}

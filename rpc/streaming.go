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

	prog := newProgress(s, p.WorkDoneToken)
	prog.begin("streaming " + sess.id)
	next, sent := p.From, uint64(0)
	result := func(state string) *protocol.SessionsStreamResult {
		r := &protocol.SessionsStreamResult{Session: sess.id, Rows: sent, Next: next, State: state}
		if state == protocol.StateFailed {
			sess.mu.Lock()
			r.Error = errorData(sess.err, sess.plugin)
			sess.mu.Unlock()
		}
		prog.end(fmt.Sprintf("%d rows sent", sent))
		return r
	}
	buf := make([]byte, 0, 64<<10)
	for {
		rows, changed := sess.store.count()
		sess.mu.Lock()
		state, closing := sess.state, sess.closing
		sess.mu.Unlock()
		if closing {
			return result(protocol.StateClosed), nil
		}
		if next < rows {
			n := sess.takeCredits(min(rows-next, protocol.MaxGrabCount))
			if n > 0 {
				buf = buf[:0]
				buf = append(buf, `{"session":`...)
				buf = appendString(buf, sess.id)
				buf = append(buf, `,"start":`...)
				buf = appendUint(buf, next)
				buf = append(buf, `,"items":[`...)
				var got uint64
				buf, got, err = sess.store.read(buf, next, n, protocol.MaxOutFrame-256)
				if errors.Is(err, errClosedStore) {
					return result(protocol.StateClosed), nil
				}
				if err != nil {
					return nil, err
				}
				sess.returnCredits(n - got)
				buf = append(buf, "]}"...)
				// Notify blocks while the client does not read: that is the
				// backpressure; ctx still interrupts between frames.
				if err := s.conn.Notify(ctx, protocol.MethodSessionsItems, jsonrpc2.RawMessage(buf)); err != nil {
					return nil, toWire(ctx, err, sess.plugin)
				}
				next += got
				sent += got
				prog.report(fmt.Sprintf("%d rows sent", sent))
				continue
			}
			// No credits: wait for sessions/credit.
			select {
			case <-ctx.Done():
				prog.end("cancelled")
				return nil, toWire(ctx, ctx.Err(), sess.plugin)
			case <-sess.creditCh:
			}
			continue
		}
		if !active(state) {
			return result(state), nil
		}
		select {
		case <-ctx.Done():
			prog.end("cancelled")
			return nil, toWire(ctx, ctx.Err(), sess.plugin)
		case <-changed:
		case <-sess.done:
		case <-sess.creditCh: // also signalled by close
		}
	}
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

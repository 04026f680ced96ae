package rpc

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"

	"github.com/chiphost/chiphost/rpc/protocol"
)

// answerWait bounds how long the server waits, once the client has left
// (exit, or EOF after the grace period), for cancelled requests to write
// their -32800 answers before it writes them itself.
const answerWait = 3 * time.Second

// answers tracks the calls the server has accepted and not yet answered on
// the wire, so that every request gets exactly one response before the
// process exits (spec/protocol.md, "Cancellation").
//
// Why on the wire: the library writes a handler's response after the handler
// returns, and it refuses to write anything once Close has started or the
// input has ended. Knowing that a handler returned is not enough; the
// stream reports each response frame it writes (onResponse).
type answers struct {
	mu      sync.Mutex
	pending map[jsonrpc2.ID]bool     // true: work that shutdown lets finish
	forced  map[jsonrpc2.ID]struct{} // answered by the server itself
	changed chan struct{}            // closed and replaced when pending shrinks
}

func (a *answers) init() {
	a.pending = map[jsonrpc2.ID]bool{}
	a.forced = map[jsonrpc2.ID]struct{}{}
	a.changed = make(chan struct{})
}

// add records an accepted call; work says whether shutdown waits for it
// (see waitWork).
func (a *answers) add(id jsonrpc2.ID, work bool) {
	a.mu.Lock()
	a.pending[id] = work
	a.mu.Unlock()
}

// answered records that a response for id is being written. It reports
// false when the server already answered id itself: the frame must be
// dropped so the client gets exactly one answer.
func (a *answers) answered(id jsonrpc2.ID) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.forced[id]; ok {
		delete(a.forced, id)
		return false
	}
	if _, ok := a.pending[id]; ok {
		delete(a.pending, id)
		close(a.changed)
		a.changed = make(chan struct{})
	}
	return true
}

// count returns the number of unanswered calls (only work calls if
// onlyWork) and a channel closed when it next shrinks.
func (a *answers) count(onlyWork bool) (int, <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !onlyWork {
		return len(a.pending), a.changed
	}
	n := 0
	for _, work := range a.pending {
		if work {
			n++
		}
	}
	return n, a.changed
}

// wait waits until no call is unanswered, ctx is done or d has passed. It
// reports whether every call was answered.
func (a *answers) wait(ctx context.Context, d time.Duration) bool {
	return a.waitFor(ctx, d, false)
}

// waitWork is wait for the work calls only (plugins/*, sessions/open,
// sessions/grab): those that end by themselves, unlike a stream waiting
// for credits.
func (a *answers) waitWork(ctx context.Context, d time.Duration) bool {
	return a.waitFor(ctx, d, true)
}

func (a *answers) waitFor(ctx context.Context, d time.Duration, onlyWork bool) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		n, changed := a.count(onlyWork)
		if n == 0 {
			return true
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return false
		case <-timer.C:
			return false
		}
	}
}

// force takes the unanswered calls for the server to answer itself; later
// responses the library writes for them are dropped.
func (a *answers) force() []jsonrpc2.ID {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([]jsonrpc2.ID, 0, len(a.pending))
	for id := range a.pending {
		ids = append(ids, id)
		a.forced[id] = struct{}{}
		delete(a.pending, id)
	}
	return ids
}

// answerAll cancels every running request and makes sure each gets its
// answer on the wire (normally -32800 from its handler) before returning:
// it waits up to answerWait, then answers what is left with -32800 itself.
// It must run while the library still writes responses: before Close, and,
// at end of input, before the reader reports EOF.
func (s *Server) answerAll() {
	s.imu.Lock()
	for _, cancel := range s.inflight {
		cancel()
	}
	s.imu.Unlock()
	if s.answers.wait(context.Background(), answerWait) {
		return
	}
	for _, id := range s.answers.force() {
		s.log.Warn().Str("id", fmt.Sprint(id)).Msg("request did not answer after cancellation; answering -32800")
		resp := jsonrpc2.NewResponse(id, nil, wireError(protocol.CodeRequestCancelled, "request cancelled: the server is exiting", &protocol.ErrorData{Kind: "cancelled", Detail: "the server is exiting"}))
		if data, err := jsonrpc2.EncodeMessage(resp); err == nil {
			_, _ = s.stream.WriteAnswer(data)
		}
	}
}
